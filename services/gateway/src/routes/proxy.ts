import type { FastifyPluginAsync } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { HttpError } from '@tmuxme/service-kit';
import type { UpstreamRoute, Upstream } from './upstream-routes.js';

export interface ProxyOptions {
  upstreams: Partial<Record<Upstream, string>>;
  routes: UpstreamRoute[];
}

/**
 * Forwards each public route to its service over pooled keep-alive
 * connections, passing the request id and the client's address along.
 * The browser's cookies stop here: a service sees the session's JWT only as
 * `Authorization: Bearer`, after the CSRF check, never the Cookie header.
 */
export const proxyRoutes: FastifyPluginAsync<ProxyOptions> = async (app, { upstreams, routes }) => {
  for (const [name, base] of Object.entries(upstreams)) {
    await app.register(async (scope) => {
      // No retries: by default a GET that gets a 503 is sent again up to 10 times (reply-from reads Retry-After as
      // milliseconds), which held clients for nearly a minute while a service waited on its database 11 times over.
      // The 503 and its Retry-After go to the client, whose call it is.
      // destroyAgent: otherwise the keep-alive sockets to the upstream outlive the gateway, and the upstream's
      // own close waits out its keep-alive timeout (72 s) for them.
      await scope.register(replyFrom, { base, undici: { connections: 128, pipelining: 1 }, retryMethods: [], destroyAgent: true });
      scope.addHook('onRequest', scope.authenticateByCookie);
      for (const route of routes.filter((r) => r.to === name)) {
        scope.all(route.url, (request, reply) => reply.from(request.url, {
          rewriteRequestHeaders: (_req, { cookie: _cookie, ...headers }) => ({
            ...headers,
            ...(request.cookieToken ? { authorization: `Bearer ${request.cookieToken}` } : {}),
            'x-request-id': request.id,
            'x-forwarded-for': request.ip,
          }),
          onError: (failed, { error }) => {
            request.log.warn({ err: error, upstream: name }, 'upstream unavailable');
            failed.header('retry-after', '5');
            failed.send(new HttpError(502, 'UPSTREAM_UNAVAILABLE', `The ${name} service is not answering right now; try again shortly.`));
          },
        }));
      }
    });
  }
};
