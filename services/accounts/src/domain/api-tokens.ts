import { randomInt } from 'node:crypto';
import mongoose from 'mongoose';
import { badRequest, claim, HttpError } from '@tmuxme/service-kit';
import type { ApiTokenDocument } from '../model/api-token.js';
import type { ApiTokenHashDocument } from '../model/api-token-hash.js';
import type { ApiTokenSlotDocument } from '../model/api-token-slot.js';
import { generateApiToken, hashApiToken, tokenHint } from './api-token-secrets.js';

export const maxApiTokensPerUser = 50;

export const slotId = (userId: string, n: number) => `${userId}:${n}`;

export interface ApiTokensDeps {
  tokens: mongoose.Model<ApiTokenDocument>;
  hashes: mongoose.Model<ApiTokenHashDocument>;
  slots: mongoose.Model<ApiTokenSlotDocument>;
}

type Held = { slot: string; record: ApiTokenDocument };

/**
 * API tokens, read and written by `_id` alone (the one filter FerretDB v1 answers from an index). A token
 * is three documents: one of its user's slots (which makes the cap of 50 race-free), the lookup by the
 * hash of its secret, and the token itself, whose `_id` is its public id. They are created in that order
 * and deleted in the reverse one, so the token document decides whether a token exists: a creation or a
 * revocation cut short leaves only a slot or a lookup that leads nowhere, which the start-up
 * reconciliation removes.
 */
export class ApiTokens {
  constructor(private readonly deps: ApiTokensDeps) {}

  /** The secret is in the result and nowhere else: only its hash is stored. */
  async issue(userId: string, name: string) {
    const { tokens, hashes, slots } = this.deps;
    const _id = new mongoose.Types.ObjectId();
    const token = generateApiToken();
    const hash = hashApiToken(token);
    const slot = await this.claimSlot(userId, _id);
    try {
      await hashes.create({ _id: hash, tokenId: _id });
      const record = await tokens.create({ _id, userId, name, hash, hint: tokenHint(token) });
      return { id: _id.toString(), name, token, hint: record.hint, createdAt: record.createdAt };
    } catch (error) {
      // Best effort: what stays behind is reconciled at the next start, and holds one of the 50 until then.
      await Promise.allSettled([hashes.deleteOne({ _id: hash }), slots.deleteOne({ _id: slot })]);
      throw error;
    }
  }

  /** Starts at a random slot, so one user's concurrent creates rarely contend for the same one. */
  private async claimSlot(userId: string, tokenId: mongoose.Types.ObjectId): Promise<string> {
    const first = randomInt(maxApiTokensPerUser);
    for (let i = 0; i < maxApiTokensPerUser; i += 1) {
      const _id = slotId(userId, (first + i) % maxApiTokensPerUser);
      if (await claim(this.deps.slots, { _id, tokenId })) return _id;
    }
    throw badRequest('TOO_MANY_TOKENS', `An account can hold ${maxApiTokensPerUser} API tokens; revoke one first.`);
  }

  /** The token whose secret this is, whoever it belongs to. */
  async bySecret(token: string): Promise<ApiTokenDocument | null> {
    const hash = hashApiToken(token);
    const lookup = await this.deps.hashes.findById(hash).lean();
    const record = lookup && await this.deps.tokens.findById(lookup.tokenId).lean();
    return record?.hash === hash ? record : null;
  }

  async touch(tokenId: mongoose.Types.ObjectId): Promise<void> {
    await this.deps.tokens.updateOne({ _id: tokenId }, { $set: { lastUsedAt: new Date() } });
  }

  async list(userId: string) {
    const held = await this.held(userId);
    return held.map(({ record: t }) => ({ id: t._id.toString(), name: t.name, hint: t.hint, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt ?? null }))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** By the public id, among the user's own tokens. */
  async revoke(userId: string, tokenId: string): Promise<void> {
    const held = mongoose.isValidObjectId(tokenId) ? (await this.held(userId)).find(({ record }) => record._id.equals(tokenId)) : undefined;
    if (!held || !await this.drop(held)) throw new HttpError(404, 'TOKEN_NOT_FOUND', 'You have no API token with that id.');
  }

  /** Every token of an account that is being deleted. */
  async revokeAll(userId: string): Promise<void> {
    await Promise.all((await this.held(userId)).map((held) => this.drop(held)));
  }

  /** False when the token was gone already (revoked by a concurrent request). */
  private async drop({ record, slot }: Held): Promise<boolean> {
    const { deletedCount } = await this.deps.tokens.deleteOne({ _id: record._id });
    await Promise.all([this.deps.hashes.deleteOne({ _id: record.hash }), this.deps.slots.deleteOne({ _id: slot })]);
    return deletedCount > 0;
  }

  /** The user's tokens, found through the user's slots (read all at once: each is one lookup by `_id`). */
  private async held(userId: string): Promise<Held[]> {
    const { tokens, slots } = this.deps;
    const claimed = await Promise.all(Array.from({ length: maxApiTokensPerUser }, (_, n) => slots.findById(slotId(userId, n)).lean()));
    const held = await Promise.all(claimed.map(async (slot): Promise<Held[]> => {
      const record = slot && await tokens.findById(slot.tokenId).lean();
      return record && record.userId.toString() === userId ? [{ slot: slot._id, record }] : [];
    }));
    return held.flat();
  }
}
