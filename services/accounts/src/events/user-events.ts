import { createEnvelope, UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import type { UserDocument } from '../model/user.js';

/** What accounts publishes; each envelope is stored in the user document it describes. */
const producer = 'accounts';

type User = Pick<UserDocument, '_id' | 'username' | 'email'>;

export const userRegistered = (user: User, requestId?: string) =>
  createEnvelope(UserRegistered, { userId: user._id.toString(), username: user.username, email: user.email }, { producer, requestId });

export const userUpdated = (user: User, requestId?: string) =>
  createEnvelope(UserUpdated, { userId: user._id.toString(), username: user.username, email: user.email }, { producer, requestId });

export const userDeleted = (user: User, requestId?: string) =>
  createEnvelope(UserDeleted, { userId: user._id.toString(), username: user.username }, { producer, requestId });
