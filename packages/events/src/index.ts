export * from './envelope.js';
export * from './contracts.js';
export * from './validate.js';
export * from './routing.js';
