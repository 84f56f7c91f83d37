import type { Envelope, EventData, UserDeleted } from '@tmuxme/events';
import type { Sessions } from '../domain/sessions.js';

export const endSessionsOnUserDeleted = (sessions: Sessions) =>
  async ({ data, requestId }: Envelope<EventData<typeof UserDeleted>>) => sessions.endAccount(data.userId, data.username, requestId);
