import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { healthPlugin } from '@tmuxme/service-kit';
import { proxyRoutes } from './routes/proxy.js';
import { upstreamRoutes, type Upstream, type UpstreamRoute } from './routes/upstream-routes.js';

export interface GatewayOptions {
  upstreams: Partial<Record<Upstream, string>>;
  /** Added to the public table, e.g. by the benchmark's static route. */
  extraRoutes?: UpstreamRoute[];
}

/** The one public entry: `/api/v1/*` and `/<name>.keys` go to the services that own them. */
const gatewayApp: FastifyPluginAsync<GatewayOptions> = async (app, { upstreams, extraRoutes = [] }) => {
  await app.register(healthPlugin, { service: 'gateway' });
  await app.register(proxyRoutes, { upstreams, routes: [...upstreamRoutes, ...extraRoutes] });
};

export default fp(gatewayApp, { name: 'gateway-app' });
