import { UserDeleted, UserRegistered, UserUpdated, type Envelope, type EventData } from '@tmuxme/events';

/** The account events every replica applies to its KnownUsers, its own included. */
export const knownUserEvents = [UserRegistered, UserUpdated, UserDeleted] as const;

interface KnownUser {
  username: string;
  deleted: boolean;
}

/**
 * The accounts this replica has read, written or heard of, so that the hot paths (a lease, a declaration
 * naming its guests) need not read the host and each guest from the database every time. It is filled as
 * accounts are met and kept current by every replica's account events; a user it does not know is read
 * from the database. It is no staler than the `users` collection, which those same events write.
 */
export class KnownUsers {
  private readonly byId = new Map<string, KnownUser>();
  private readonly idByName = new Map<string, string>();

  /** A deletion is final: nothing learnt later, a read that started before it included, brings a user back. */
  remember(userId: string, username: string, deleted: boolean): void {
    if (this.byId.get(userId)?.deleted) return;
    this.byId.set(userId, { username, deleted });
    if (!deleted) this.idByName.set(username, userId);
  }

  apply({ type, data }: Pick<Envelope, 'type' | 'data'>): void {
    const { userId, username } = data as EventData<(typeof knownUserEvents)[number]>;
    this.remember(userId, username, type === UserDeleted.type);
  }

  /** true or false when known; undefined when the database must tell. */
  isLive(userId: string): boolean | undefined {
    const user = this.byId.get(userId);
    return user && !user.deleted;
  }

  /** The id of the live account known to hold this name now; undefined when the database must tell. */
  liveIdOf(username: string): string | undefined {
    const userId = this.idByName.get(username);
    return userId !== undefined && this.isLive(userId) && this.byId.get(userId)!.username === username ? userId : undefined;
  }
}
