import { badRequest } from '@tmuxme/service-kit';

export type Access = 'rw' | 'ro';

export interface Guest {
  username: string;
  access: Access;
}

/** As given: a username (read-write) or `{username, access}`. */
export type GuestInput = string | { username: string; access?: Access };

export const maxGuests = 20;

/** Lower-cases the names (usernames are lower-case) and folds repeats, read-write winning over read-only. */
export function foldGuests(input: GuestInput[], hostUsername: string): Guest[] {
  const access = new Map<string, Access>();
  for (const entry of input) {
    const guest = typeof entry === 'string' ? { username: entry } : entry;
    const username = guest.username.toLowerCase();
    if (username === hostUsername) throw badRequest('HOST_AS_GUEST', 'You host this session; list only the people who join you.', { field: 'guests' });
    access.set(username, access.get(username) === 'rw' ? 'rw' : guest.access ?? 'rw');
  }
  if (access.size === 0) throw badRequest('NO_GUESTS', 'Name at least one guest to pair with.', { field: 'guests' });
  if (access.size > maxGuests) {
    throw badRequest('TOO_MANY_GUESTS', `A session can have at most ${maxGuests} guests; this one names ${access.size}.`, { field: 'guests' });
  }
  return [...access].map(([username, level]) => ({ username, access: level }));
}
