import { useEffect, useState, useSyncExternalStore } from 'react';
import type { HostStore } from '../host/host-store.js';

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
