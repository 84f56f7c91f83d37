import type { HostEvent } from './host-events.js';
import { initialHostView, reduceHostView, type HostView } from './host-view.js';

/** The host view as events fold into it, for whoever watches (the TUI subscribes; the reporters read events). */
export class HostStore {
  private view: HostView = initialHostView();
  private readonly listeners = new Set<(event: HostEvent) => void>();

  readonly dispatch = (event: HostEvent): void => {
    this.view = reduceHostView(this.view, event);
    for (const listener of this.listeners) listener(event);
  };

  readonly get = (): HostView => this.view;

  readonly subscribe = (listener: (event: HostEvent) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
