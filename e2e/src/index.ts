export * from './stack.js';
export * from './client.js';
export * from './pairing-world.js';
export * from './terminal.js';
export * from './pty-terminal.js';
export * from './service-process.js';
