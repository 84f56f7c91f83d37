export { default, type TunnelSyncOptions } from './app.js';
export {
  renderAuthorizedKeys, type AuthorizedKeysState, type KeyEntry, type LeaseEntry, type RenderOptions, type TunnelRenderOptions,
} from './domain/render-authorized-keys.js';
export { renderJoinAuthorizedKeys, type JoinAuthorizedKeysState, type SessionEntry } from './domain/render-join-authorized-keys.js';
export { AuthorizedKeysWriter, type AuthorizedKeysWriterOptions, type WriteOutcome } from './domain/authorized-keys-writer.js';
export type { ConvergeReport } from './domain/projection.js';
