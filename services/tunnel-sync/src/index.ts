export { default, type TunnelSyncOptions } from './app.js';
export { renderAuthorizedKeys, type AuthorizedKeysState, type KeyEntry, type LeaseEntry, type RenderOptions } from './domain/render-authorized-keys.js';
export { AuthorizedKeysWriter, type AuthorizedKeysWriterOptions, type WriteOutcome } from './domain/authorized-keys-writer.js';
export type { ConvergeReport } from './domain/projection.js';
