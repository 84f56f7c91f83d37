import type { HandlerContext } from '@tmuxme/bus';
import type { Envelope, EventData, SessionDeclared } from '@tmuxme/events';
import type { Invitations } from '../domain/invitations.js';

export const inviteGuestsOnSessionDeclared = (invitations: Invitations) =>
  async ({ id, data }: Envelope<EventData<typeof SessionDeclared>>, { log }: HandlerContext) => invitations.inviteGuests(id, data, log);
