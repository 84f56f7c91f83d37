export * from './answers.js';
export * from './metrics.js';
export * from './parallel.js';
export * from './principal.js';
export * from './proxy.js';
export * from './routes.js';
export * from './tunnel-file.js';
