import { useInput } from 'ink';
import { useRef } from 'react';
import type { HostStore } from '../host/host-store.js';
import { HostScreen } from './host-screen.js';
import { useGuestPicker, useHostView, useNow } from './use-host-view.js';

export interface HostAppProps {
  store: HostStore;
  /** Enter, once guests can join: hand the terminal to tmux. */
  onAttach: () => void;
  /** q or Ctrl-C: end the session (undoing every step). */
  onQuit: () => void;
  /** d then y: end these connections of the chosen guest. */
  onDisconnect: (connectionIds: string[]) => void;
}

/** The interactive host screen: the flow's state as it happens, and the keys that steer it. */
export function HostApp({ store, onAttach, onQuit, onDisconnect }: HostAppProps) {
  const view = useHostView(store);
  const now = useNow(view.steps.some((step) => step.status === 'running'));
  const picker = useGuestPicker(view, onDisconnect);
  // Ink swaps in each render's key handler only after the frame is drawn: a key typed in between
  // would meet the previous state (a `q` meant as "no" to a question would quit). So the handler
  // reads the state of the last render, whichever handler runs.
  const drawn = useRef({ view, picker });
  drawn.current = { view, picker };
  useInput((input, key) => {
    const { view, picker } = drawn.current;
    if (key.ctrl && input === 'c') onQuit();
    // While a disconnect waits for its answer, every key answers it: only y says yes.
    else if (picker.confirming) picker.answer(input === 'y');
    else if (input === 'q') onQuit();
    else if (view.phase !== 'ready') return;
    else if (key.return) onAttach();
    else if (key.upArrow || key.downArrow) picker.move(key.upArrow ? -1 : 1);
    else if (input === 'd') picker.ask();
  });
  return <HostScreen view={view} now={now} picker={picker.choices.length > 0 ? { selected: picker.selected, confirming: picker.confirming } : undefined} />;
}
