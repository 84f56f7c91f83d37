export * from './envelope.js';
export * from './contracts.js';
export * from './validate.js';
