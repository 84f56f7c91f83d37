import { useInput } from 'ink';
import type { HostStore } from '../host/host-store.js';
import { HostScreen } from './host-screen.js';
import { useHostView, useNow } from './use-host-view.js';

export interface HostAppProps {
  store: HostStore;
  /** Enter, once guests can join: hand the terminal to tmux. */
  onAttach: () => void;
  /** q or Ctrl-C: end the session (undoing every step). */
  onQuit: () => void;
}

/** The interactive host screen: the flow's state as it happens, and the keys that steer it. */
export function HostApp({ store, onAttach, onQuit }: HostAppProps) {
  const view = useHostView(store);
  const now = useNow(view.steps.some((step) => step.status === 'running'));
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) onQuit();
    else if (key.return && view.phase === 'ready') onAttach();
  });
  return <HostScreen view={view} now={now} />;
}
