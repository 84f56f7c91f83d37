import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    readiness: { add(name: string, check: () => boolean): void };
    metrics: {
      registry: Registry;
      gauge(name: string, help: string, collect: () => Promise<number> | number): void;
      counter(name: string, help: string, labelNames?: string[]): Counter;
    };
  }
}

export interface HealthOptions {
  service: string;
}

/**
 * `/healthz` (the process answers), `/readyz` (what it depends on answers) and
 * `/metrics` (Prometheus text), outside `/api` so the gateway never exposes them.
 */
export const healthPlugin = fp<HealthOptions>(async (app, { service }) => {
  const checks = new Map<string, () => boolean>();
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  app.decorate('readiness', { add: (name: string, check: () => boolean) => void checks.set(name, check) });
  app.decorate('metrics', {
    registry,
    gauge(name: string, help: string, collect: () => Promise<number> | number) {
      new Gauge({
        name, help, registers: [registry],
        async collect() {
          try {
            this.set(await collect());
          } catch {
            // Keeps the last value: a source that is down (the database, which /readyz reports) must not fail the whole scrape.
          }
        },
      });
    },
    counter: (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] }),
  });

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const results = Object.fromEntries([...checks].map(([name, check]) => [name, check()]));
    const ready = Object.values(results).every(Boolean);
    if (!ready) reply.status(503).header('retry-after', '5');
    return { ready, checks: results };
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}, { name: 'health' });
