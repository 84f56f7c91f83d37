export * from './net.js';
export * from './tcp-proxy.js';
export * from './ferretdb.js';
export * from './servers.js';
export * from './test-env.js';
export * from './event-spy.js';
export * from './build-app.js';
export * from './ssh-keys.js';
