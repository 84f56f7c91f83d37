import { useEffect } from 'react';

/** The page's h1 and the tab's title; focusable so that changing page can move focus to it. */
export function PageTitle({ children }: { children: string }) {
  useEffect(() => {
    document.title = children === 'tmux.me' ? children : `${children} · tmux.me`;
  }, [children]);
  return <h1 tabIndex={-1}>{children}</h1>;
}
