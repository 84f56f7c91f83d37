import { useCallback, useEffect, useState } from 'react';
import { messageOf } from './format.js';

interface Loaded<T> { data?: T; error?: string; loading: boolean }

/** Data for a page, loaded on mount; `reload` after a change. `load` must be stable (an Api method). */
export function useLoad<T>(load: () => Promise<T>) {
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState((old) => ({ ...old, error: messageOf(error), loading: false })),
    );
    // A late answer from an older load must not overwrite a newer one.
    return () => { current = false; };
  }, [load, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { ...state, reload };
}
