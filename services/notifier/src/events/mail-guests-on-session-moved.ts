import type { HandlerContext } from '@tmuxme/bus';
import type { Envelope, EventData, SessionMoved } from '@tmuxme/events';
import type { SessionMoves } from '../domain/session-moves.js';

export const mailGuestsOnSessionMoved = (moves: SessionMoves) =>
  async ({ id, data }: Envelope<EventData<typeof SessionMoved>>, { log }: HandlerContext) => moves.mailGuests(id, data, log);
