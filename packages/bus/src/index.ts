export * from './bus.js';
export * from './consumer.js';
export * from './inbox.js';
export * from './logger.js';
export * from './outbox.js';
export * from './topology.js';
export * from './replica-view.js';
