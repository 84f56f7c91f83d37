import mongoose from 'mongoose';
import type { TokenSigner } from '@tmuxme/auth';
import type { Outbox } from '@tmuxme/bus';
import { conflict, HttpError, unauthorized, badRequest } from '@tmuxme/service-kit';
import type { UserDocument } from '../model/user.js';
import type { UsernameClaimDocument } from '../model/username-claim.js';
import type { EmailClaimDocument } from '../model/email-claim.js';
import { userDeleted, userRegistered, userUpdated } from '../events/user-events.js';
import { checkNewUsername, normalizeUsername } from './usernames.js';
import { checkNewPassword, type PasswordHasher } from './passwords.js';
import { apiTokenPattern } from './api-token-secrets.js';
import type { ApiTokens } from './api-tokens.js';
import { claim, isDuplicateKey, releaseClaim } from '@tmuxme/service-kit';
import type { Attempt, LoginThrottle } from './login-throttle.js';

export interface AccountsDeps {
  users: mongoose.Model<UserDocument>;
  usernames: mongoose.Model<UsernameClaimDocument>;
  emails: mongoose.Model<EmailClaimDocument>;
  apiTokens: ApiTokens;
  hasher: PasswordHasher;
  signer: TokenSigner;
  /** Failed logins per address and per account, failed token exchanges per address (see LoginThrottle). */
  throttles: { perAddress: LoginThrottle; perAccount: LoginThrottle; tokenExchangePerAddress: LoginThrottle };
  /** Stages each event with the user document write that records it. */
  outbox: Outbox;
}

export interface SignupInput {
  username: string;
  email: string;
  password: string;
  passwordConfirmation: string;
}

const usernameTaken = (username: string) => conflict('USERNAME_TAKEN', `The username "${username}" is taken.`);
const emailTaken = () => conflict('EMAIL_TAKEN', 'An account with this e-mail address exists already; log in instead.');
const emailInUse = () => conflict('EMAIL_TAKEN', 'Another account uses this e-mail address.');

/** Whether a claim names this user: only then may the user's request release it. */
const heldBy = (userId: mongoose.Types.ObjectId) => (held: { userId: mongoose.Types.ObjectId }) => held.userId.equals(userId);

/**
 * 429 while any limit is reached, naming the one that is waited for longest.
 * The check only reads the counters: a refused attempt changes nothing.
 */
function refuseWhileLocked(...limits: [wait: number, reason: string][]): void {
  const [wait, reason] = limits.reduce((longest, limit) => (limit[0] > longest[0] ? limit : longest));
  if (wait <= 0) return;
  throw new HttpError(429, 'TOO_MANY_ATTEMPTS', `${reason}; try again in ${wait} second${wait === 1 ? '' : 's'}.`, { retryAfter: wait });
}

/** Runs `work`; when it throws (the database is down, say) the attempts do not count as failures. */
async function takenBackOnError<T>(attempts: Attempt[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    for (const attempt of attempts) attempt.takeBack();
    throw error;
  }
}

export class Accounts {
  constructor(private readonly deps: AccountsDeps) {}

  /**
   * Claims the username, then the e-mail address, each by an insert under it (of sign-ups racing for
   * either, exactly one gets it), and only then writes the user; a failure releases the claims again.
   */
  async signup(input: SignupInput, requestId: string) {
    const username = checkNewUsername(input.username);
    const email = input.email.trim().toLowerCase();
    checkNewPassword(input.password);
    if (input.password !== input.passwordConfirmation) {
      throw badRequest('PASSWORD_MISMATCH', 'The password confirmation does not match the password.', { field: 'passwordConfirmation' });
    }
    const _id = new mongoose.Types.ObjectId();
    const { users, usernames, emails, outbox } = this.deps;
    const releases: (() => Promise<void>)[] = [];
    try {
      if (!await claim(usernames, { _id: username, userId: _id })) throw usernameTaken(username);
      releases.push(() => releaseClaim(usernames, username, heldBy(_id)));
      if (!await claim(emails, { _id: email, userId: _id })) throw emailTaken();
      releases.push(() => releaseClaim(emails, email, heldBy(_id)));
      const user = { _id, username, email };
      const passwordHash = await this.deps.hasher.hash(input.password);
      await outbox.write([userRegistered(user, requestId)], { model: users, id: _id, inserted: true }, (eventIds) => users.create({ ...user, passwordHash, eventIds }));
    } catch (error) {
      // Best effort: a claim whose user never came is released by the start-up reconciliation too.
      await Promise.allSettled(releases.map((undo) => undo()));
      // The claims were free, yet a user document has the name (see model/user.ts). MongoDB names the index
      // that refused and FerretDB does not; its usual holder, a deleted account's tombstone, has the username too.
      if (isDuplicateKey(error)) throw 'email' in ((error as { keyPattern?: object }).keyPattern ?? {}) ? emailTaken() : usernameTaken(username);
      throw error;
    }
    const apiToken = await this.deps.apiTokens.issue(_id.toString(), 'default');
    return { username, email, apiToken: apiToken.token };
  }

  /**
   * A password login. Only failures count: per client address (any account)
   * and per account (any address).
   *
   * While either limit is reached, a correct password is refused too, and
   * before bcrypt runs. For the account limit that is what stops guessing: if
   * the right password still got through, the lock would not slow an attacker
   * down at all, and 200 against 429 would even tell them which guess was
   * right. The address limit is held the same way so that one address cannot
   * spray guesses across accounts. What this costs: failures from someone
   * else behind the same NAT address lock that address for the rest of the
   * window (its successes never do), and an attacker can lock one account
   * for a window; both end by themselves.
   *
   * "Account" is the login as typed (trimmed, lower-cased), whether or not
   * it names a user, so a lock says nothing about which names exist or which
   * e-mail address belongs to which username.
   */
  async login(login: string, password: string, address: string) {
    const account = normalizeUsername(login);
    const { perAddress, perAccount } = this.deps.throttles;
    refuseWhileLocked(
      [perAddress.retryAfter(address), 'Too many failed logins came from your network address'],
      [perAccount.retryAfter(account), 'Too many failed logins were tried on this account'],
    );
    const fromAddress = perAddress.attempt(address);
    const onAccount = perAccount.attempt(account);
    const user = await takenBackOnError([fromAddress, onAccount], async () => {
      const found = await this.byLogin(account);
      return (await this.deps.hasher.verify(password, found?.passwordHash)) ? found : null;
    });
    if (!user) throw unauthorized('INVALID_CREDENTIALS', 'That login and password do not match an account.');
    // A success never counts against its address, but it does not clear the address's failures
    // either: anyone with an account of their own could otherwise wipe them between guesses.
    fromAddress.takeBack();
    // Whoever knows the password may start the account's count again.
    perAccount.reset(account);
    return this.accessToken(user);
  }

  /** The live user with this username or e-mail address, found through its claim. */
  private async byLogin(login: string) {
    const byEmail = login.includes('@');
    const held = await (byEmail ? this.deps.emails.findById(login).lean() : this.deps.usernames.findById(login).lean());
    const user = held && await this.deps.users.findById(held.userId);
    // A claim left behind by a change or a deletion cut short must not log anyone in.
    return user && !user.deletedAt && (byEmail ? user.email : user.username) === login ? user : null;
  }

  /**
   * An API token for an access token. Failures count per client address, as
   * for logins but separately (a script left with a revoked token must not
   * lock its office out of the web sign-in); a valid token is refused too
   * while its address is locked, for the same reason as a correct password.
   */
  async exchangeApiToken(token: string, address: string) {
    const { tokenExchangePerAddress } = this.deps.throttles;
    refuseWhileLocked([tokenExchangePerAddress.retryAfter(address), 'Too many invalid API tokens came from your network address']);
    const attempt = tokenExchangePerAddress.attempt(address);
    const invalid = unauthorized('INVALID_API_TOKEN', 'That API token is not valid (it may have been revoked); create a new one.');
    if (!apiTokenPattern.test(token)) throw invalid;
    const found = await takenBackOnError([attempt], async () => {
      const record = await this.deps.apiTokens.bySecret(token);
      const user = record && await this.deps.users.findById(record.userId);
      return record && user && !user.deletedAt ? { record, user } : null;
    });
    if (!found) throw invalid;
    attempt.takeBack();
    const { record, user } = found;
    await this.deps.apiTokens.touch(record._id);
    return this.accessToken(user);
  }

  private async accessToken(user: Pick<UserDocument, '_id' | 'username'>) {
    const accessToken = await this.deps.signer.sign({ userId: user._id.toString(), username: user.username });
    return { accessToken, tokenType: 'Bearer' as const, expiresIn: this.deps.signer.expiresIn };
  }

  /** Read by `_id` alone and checked here: FerretDB would scan the collection for `{ _id, deletedAt: null }`. */
  async get(userId: string) {
    const user = mongoose.isValidObjectId(userId) ? await this.deps.users.findById(userId) : null;
    if (!user || user.deletedAt) throw unauthorized('ACCOUNT_GONE', 'This account no longer exists.');
    return user;
  }

  /**
   * A new e-mail address is claimed before the user document names it and the old one released after,
   * so no two accounts ever hold one address. The write goes by `_id` alone, `get` having just found the
   * account live.
   */
  async update(userId: string, change: { currentPassword: string; email?: string; password?: string }, requestId: string) {
    const user = await this.get(userId);
    if (!(await this.deps.hasher.verify(change.currentPassword, user.passwordHash))) {
      throw new HttpError(403, 'WRONG_PASSWORD', 'The current password is not right.', { field: 'currentPassword' });
    }
    const { users, emails, outbox } = this.deps;
    const set: Partial<UserDocument> = {};
    if (change.password !== undefined) set.passwordHash = await this.deps.hasher.hash(checkNewPassword(change.password));
    const email = change.email?.trim().toLowerCase();
    if (email !== undefined && email !== user.email) {
      const claimed = await claim(emails, { _id: email, userId: user._id })
        // Left by an earlier change of this account's that was cut short: it is this account's to use.
        || (await emails.findById(email).lean())?.userId.equals(user._id) === true;
      if (!claimed) throw emailInUse();
      set.email = email;
    }
    const filter = { _id: user._id };
    try {
      if (set.email) {
        const event = userUpdated({ ...user.toObject(), email: set.email }, requestId);
        await outbox.write([event], { model: users, id: user._id }, (eventIds) => users.updateOne(filter, { $set: set, $push: { eventIds: { $each: eventIds } } }));
      } else {
        await users.updateOne(filter, { $set: set });
      }
    } catch (error) {
      // Best effort, as in signup: the start-up reconciliation releases what this misses.
      if (set.email) await releaseClaim(emails, set.email, heldBy(user._id)).catch(() => {});
      // A user document without a claim has the address (see model/user.ts).
      if (isDuplicateKey(error)) throw emailInUse();
      throw error;
    }
    if (set.email) await releaseClaim(emails, user.email, heldBy(user._id));
    return { username: user.username, email: set.email ?? user.email, createdAt: user.createdAt };
  }

  /**
   * A soft delete that carries UserDeleted; the relay removes the document once the event is out. The
   * claims go once the tombstone is written, so the names can be taken again (once the relay has purged
   * the tombstone, which holds them in the users' unique indexes till then).
   */
  async remove(userId: string, password: string, requestId: string) {
    const user = await this.get(userId);
    if (!(await this.deps.hasher.verify(password, user.passwordHash))) {
      throw new HttpError(403, 'WRONG_PASSWORD', 'The password is not right.', { field: 'password' });
    }
    const { users, usernames, emails, outbox } = this.deps;
    await outbox.write([userDeleted(user, requestId)], { model: users, id: user._id }, (eventIds) => users.updateOne(
      { _id: user._id },
      { $set: { deletedAt: new Date() }, $push: { eventIds: { $each: eventIds } } },
    ));
    await Promise.all([
      releaseClaim(usernames, user.username, heldBy(user._id)),
      releaseClaim(emails, user.email, heldBy(user._id)),
      this.deps.apiTokens.revokeAll(user._id.toString()),
    ]);
  }

  async createApiToken(userId: string, name: string) {
    const user = await this.get(userId);
    return this.deps.apiTokens.issue(user._id.toString(), name);
  }

  listApiTokens(userId: string) {
    return this.deps.apiTokens.list(userId);
  }

  revokeApiToken(userId: string, tokenId: string) {
    return this.deps.apiTokens.revoke(userId, tokenId);
  }
}
