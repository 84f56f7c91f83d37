import { describe, expect, it } from '@jest/globals';
import { UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import { KnownUsers } from './known-users.js';

const event = (type: string, userId: string, username: string) => ({ type, data: { userId, username, email: `${username}@example.test` } });

describe('known users', () => {
  it('knows nobody at first: the database tells', () => {
    const known = new KnownUsers();
    expect(known.isLive('u1')).toBeUndefined();
    expect(known.liveIdOf('alice')).toBeUndefined();
  });

  it('finds a registered user by id and by name, and by the new name only after a rename', () => {
    const known = new KnownUsers();
    known.apply(event(UserRegistered.type, 'u1', 'alice'));
    expect(known.isLive('u1')).toBe(true);
    expect(known.liveIdOf('alice')).toBe('u1');
    known.apply(event(UserUpdated.type, 'u1', 'alicia'));
    expect(known.liveIdOf('alicia')).toBe('u1');
    expect(known.liveIdOf('alice')).toBeUndefined();
  });

  it('keeps a deletion, whatever comes after it: a replayed registration or a read that started before it', () => {
    const known = new KnownUsers();
    known.remember('u1', 'alice', false);
    known.apply(event(UserDeleted.type, 'u1', 'alice'));
    expect(known.isLive('u1')).toBe(false);
    expect(known.liveIdOf('alice')).toBeUndefined();
    known.apply(event(UserRegistered.type, 'u1', 'alice'));
    known.remember('u1', 'alice', false);
    expect(known.isLive('u1')).toBe(false);
  });

  it('gives a freed name to its new holder', () => {
    const known = new KnownUsers();
    known.apply(event(UserRegistered.type, 'u1', 'alice'));
    known.apply(event(UserDeleted.type, 'u1', 'alice'));
    known.apply(event(UserRegistered.type, 'u2', 'alice'));
    expect(known.liveIdOf('alice')).toBe('u2');
  });
});
