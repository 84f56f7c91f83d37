/** Which service answers which public path. Order does not matter: fastify picks the most specific route. */
export type Upstream = 'accounts' | 'keys' | 'sessions' | (string & {});

export interface UpstreamRoute {
  url: string;
  to: Upstream;
}

export const upstreamRoutes: UpstreamRoute[] = [
  { url: '/api/v1/users', to: 'accounts' },
  { url: '/api/v1/auth/*', to: 'accounts' },
  { url: '/api/v1/user', to: 'accounts' },
  { url: '/api/v1/user/tokens', to: 'accounts' },
  { url: '/api/v1/user/tokens/*', to: 'accounts' },
  { url: '/api/v1/user/keys', to: 'keys' },
  { url: '/api/v1/user/keys/*', to: 'keys' },
  { url: '/api/v1/users/:username/keys.json', to: 'keys' },
  { url: '/:username.keys', to: 'keys' },
  { url: '/api/v1/pairing/*', to: 'sessions' },
];
