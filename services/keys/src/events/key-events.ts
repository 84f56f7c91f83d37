import { createEnvelope, KeyAdded, KeyRemoved } from '@tmuxme/events';
import type { KeyDocument } from '../model/key.js';

/** What keys publishes; each envelope is stored in the key document it describes. */
const producer = 'keys';

type Key = Pick<KeyDocument, '_id' | 'userId' | 'username' | 'type' | 'blob' | 'fingerprint'>;

export const keyAdded = (key: Key, requestId?: string) => createEnvelope(KeyAdded, {
  keyId: key._id.toString(), userId: key.userId, username: key.username, type: key.type, key: `${key.type} ${key.blob}`, fingerprint: key.fingerprint,
}, { producer, requestId });

export const keyRemoved = (key: Key, requestId?: string) => createEnvelope(KeyRemoved, {
  keyId: key._id.toString(), userId: key.userId, username: key.username, fingerprint: key.fingerprint,
}, { producer, requestId });
