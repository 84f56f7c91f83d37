export * from './http-error.js';
export * from './create-server.js';
export * from './run-service.js';
export { healthPlugin } from './plugins/health.js';
export { databasePlugin } from './plugins/database.js';
export { busPlugin } from './plugins/bus.js';
export { outboxPlugin, type OutboxPluginOptions } from './plugins/outbox.js';
export { authPlugin } from './plugins/auth.js';
export { subscriptionsPlugin, on, type Subscription } from './plugins/subscriptions.js';
