import type { StackRoute } from '@tmuxme/e2e';

export const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A fastify route path (`/users/:username/keys.json`, `/api/v1/pairing/*`) as a regular expression matching the paths it serves. */
export function pathPattern(url: string): RegExp {
  const pattern = url.split(/(:\w+|\*)/).map((part) => {
    if (part === '*') return '.*';
    if (part.startsWith(':')) return '[^/]+';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${pattern}$`);
}

/** The route's path with each `:param` replaced by the given value. */
export function fillParams(url: string, params: Record<string, string>): string {
  return url.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${url}`);
    return encodeURIComponent(value);
  });
}

/**
 * The paths the gateway passes on to the services: its proxy registers each for every method, so a path
 * it serves for OPTIONS and TRACE as well as the rest is a forwarding one, not a route of its own.
 */
export function gatewayForwards(routes: StackRoute[]): string[] {
  const methods = new Map<string, Set<string>>();
  for (const route of routes.filter((r) => r.service === 'gateway')) {
    methods.set(route.url, (methods.get(route.url) ?? new Set()).add(route.method));
  }
  return [...methods].filter(([, served]) => ['GET', ...mutatingMethods, 'OPTIONS', 'TRACE'].every((m) => served.has(m))).map(([url]) => url);
}
