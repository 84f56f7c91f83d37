import { useEffect, useState, useSyncExternalStore } from 'react';
import type { HostStore } from '../host/host-store.js';
import type { HostView } from '../host/host-view.js';

/** The current host view, re-rendered on every event. */
export const useHostView = (store: HostStore) => useSyncExternalStore(store.subscribe, store.get);

/** A clock for running steps' times; it stops once nothing is running. */
export function useNow(running: boolean, everyMs = 100): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [running, everyMs]);
  return running ? now : Date.now();
}

/** The connected guest the host has chosen (arrow keys), and the one a disconnect waits to be confirmed for. */
export function useGuestPicker(view: HostView, onDisconnect: (connectionIds: string[]) => void) {
  const [chosen, setChosen] = useState<string>();
  const [confirming, setConfirming] = useState<string>();
  const connectionIds = (username: string) => view.connected.flatMap((client) => (client.username === username && client.connectionId ? [client.connectionId] : []));
  // Only guests the backend can disconnect: it gave their connections ids.
  const choices = (view.session?.guests ?? []).map((guest) => guest.username).filter((username) => connectionIds(username).length > 0);
  const selected = chosen !== undefined && choices.includes(chosen) ? chosen : choices[0];
  return {
    choices,
    selected,
    // A guest who left while the question was open is no longer asked about.
    confirming: confirming !== undefined && choices.includes(confirming) ? confirming : undefined,
    move(by: 1 | -1) {
      if (selected === undefined) return;
      setChosen(choices[(choices.indexOf(selected) + by + choices.length) % choices.length]);
      setConfirming(undefined);
    },
    ask: () => setConfirming(selected),
    answer(yes: boolean) {
      if (yes && confirming !== undefined && choices.includes(confirming)) onDisconnect(connectionIds(confirming));
      setConfirming(undefined);
    },
  };
}
