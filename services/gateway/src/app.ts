import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { healthPlugin } from '@tmuxme/service-kit';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { cookieSessionPlugin } from './plugins/cookie-session.js';
import { webSessionRoutes } from './routes/web-session.js';
import { proxyRoutes } from './routes/proxy.js';
import { webPagesRoutes } from './routes/web-pages.js';
import { upstreamRoutes, type Upstream, type UpstreamRoute } from './routes/upstream-routes.js';

export interface GatewayOptions {
  /** Base URLs of the services; accounts is required, as the web pages sign in through it. */
  upstreams: Partial<Record<Upstream, string>> & { accounts: string };
  /** Added to the public table, e.g. by the benchmark's static route. */
  extraRoutes?: UpstreamRoute[];
  /** The built web pages (web/dist), served at `/`. */
  webRoot?: string;
  /**
   * The gateway is reached only through a TLS-terminating proxy that sets
   * X-Forwarded-Proto and X-Forwarded-Host: believe them for Secure cookies, HSTS and the Origin check.
   */
  trustProxy?: boolean;
}

/** The one public entry: `/api/v1/*` and `/<name>.keys` go to the services that own them; `/` serves the web pages. */
const gatewayApp: FastifyPluginAsync<GatewayOptions> = async (app, { upstreams, extraRoutes = [], webRoot, trustProxy = false }) => {
  await app.register(healthPlugin, { service: 'gateway' });
  await app.register(securityHeadersPlugin, { trustProxy });
  await app.register(cookieSessionPlugin, { trustProxy });
  await app.register(webSessionRoutes, { accountsUrl: upstreams.accounts, trustProxy });
  await app.register(proxyRoutes, { upstreams, routes: [...upstreamRoutes, ...extraRoutes] });
  await app.register(webPagesRoutes, { webRoot });
};

export default fp(gatewayApp, { name: 'gateway-app' });
