import { createContext, useCallback, useContext, useEffect, useMemo, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

/**
 * A few pages on real paths (no hash), so the gateway serves index.html for each of
 * them and the browser's back button works. Small enough not to need a router package.
 */
export interface Location { path: string; search: URLSearchParams }
interface Router { location: Location; navigate(to: string, options?: { replace?: boolean }): void }

const RouterContext = createContext<Router | null>(null);

function currentLocation(): Location {
  return { path: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(currentLocation);
  useEffect(() => {
    const onPop = () => setLocation(currentLocation());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((to: string, options: { replace?: boolean } = {}) => {
    if (options.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
    // A new page starts at its top, as after a full load.
    if (document.scrollingElement) document.scrollingElement.scrollTop = 0;
    setLocation(currentLocation());
  }, []);
  const router = useMemo(() => ({ location, navigate }), [location, navigate]);
  return <RouterContext.Provider value={router}>{children}</RouterContext.Provider>;
}

export function useRouter(): Router {
  const router = useContext(RouterContext);
  if (!router) throw new Error('useRouter needs a RouterProvider around it');
  return router;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An ordinary link that changes page without a reload; modified clicks still open tabs. */
export function Link({ to, children, ...rest }: LinkProps) {
  const { location, navigate } = useRouter();
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  const current = location.path === to ? 'page' : undefined;
  return <a href={to} aria-current={current} onClick={onClick} {...rest}>{children}</a>;
}

/** Redirects on mount (and whenever the target changes) without leaving a history entry. */
export function Redirect({ to }: { to: string }) {
  const { navigate } = useRouter();
  useEffect(() => navigate(to, { replace: true }), [navigate, to]);
  return null;
}
