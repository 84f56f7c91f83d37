import { randomInt } from 'node:crypto';
import type mongoose from 'mongoose';
import { claim, releaseClaim } from '@tmuxme/service-kit';
import type { KeyDocument } from '../model/key.js';
import type { FingerprintClaimDocument, KeySlotDocument } from '../model/key-claims.js';

export interface KeyClaimsDeps {
  keys: mongoose.Model<KeyDocument>;
  slots: mongoose.Model<KeySlotDocument>;
  fingerprints: mongoose.Model<FingerprintClaimDocument>;
  maxKeysPerUser: number;
  /**
   * How long a claim may name a key that is missing or removed before it counts as left behind by a
   * crash between the claim and the key's write (or its removal) and may be taken over.
   */
  staleAfterMs: number;
}

/** Why a fingerprint is not free: the caller added the key already, someone else did, or it is going. */
export type FingerprintHolder = 'yours' | 'another' | 'removing';

/** What `backfill` had to claim, and the keys it found no free slot for. */
export interface Backfilled {
  slots: number;
  fingerprints: number;
  overCap: string[];
}

const slotId = (userId: string, n: number) => `${userId}:${n}`;

/**
 * The slots that cap a user's keys and the fingerprint claims that keep a key to one account, read and
 * deleted by `_id` alone. A claim is taken before its key is written and released after the key's removal.
 */
export class KeyClaims {
  constructor(private readonly deps: KeyClaimsDeps) {}

  /** Takes one of the user's free slots for the key; false when every slot holds a live key. */
  async takeSlot(userId: string, keyId: string): Promise<boolean> {
    const { slots, maxKeysPerUser: cap } = this.deps;
    // A random start spreads concurrent adds over the free slots rather than having them all collide on one.
    const start = randomInt(cap);
    for (let i = 0; i < cap; i += 1) {
      if (await claim(slots, { _id: slotId(userId, (start + i) % cap), keyId })) return true;
    }
    // Every slot is held, but one may be a leftover of an add or removal that crashed half way.
    for (const stale of await this.staleSlots(userId)) {
      await slots.deleteOne({ _id: stale });
      if (await claim(slots, { _id: stale, keyId })) return true;
    }
    return false;
  }

  /** The user's slots that are taken, each read by `_id`. */
  async slotsOf(userId: string) {
    const { slots, maxKeysPerUser: cap } = this.deps;
    const found = await Promise.all(Array.from({ length: cap }, (_, n) => slots.findById(slotId(userId, n)).lean()));
    return found.filter((slot) => slot !== null);
  }

  /** Frees the slots naming these keys, read first so that a slot another key holds by now stays. */
  async releaseSlots(userId: string, keyIds: string[]): Promise<void> {
    const { slots } = this.deps;
    const held = (await this.slotsOf(userId)).filter((slot) => keyIds.includes(slot.keyId));
    await Promise.all(held.map((slot) => slots.deleteOne({ _id: slot._id })));
  }

  /** Claims the fingerprint for the key, or says who holds it. */
  async takeFingerprint(fingerprint: string, keyId: string, userId: string): Promise<FingerprintHolder | undefined> {
    const { fingerprints } = this.deps;
    // Twice at most: once more when the holder let go, or turned out stale, between the insert and the read.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (await claim(fingerprints, { _id: fingerprint, keyId, userId })) return undefined;
      const holder = await fingerprints.findById(fingerprint).lean();
      if (!holder) continue;
      const key = await this.keyOf(holder.keyId);
      if (this.isStale(holder.createdAt, key)) {
        await fingerprints.deleteOne({ _id: fingerprint });
        continue;
      }
      if (key?.deletedAt) return 'removing';
      return holder.userId === userId ? 'yours' : 'another';
    }
    return 'removing';
  }

  async releaseFingerprint(fingerprint: string, keyId: string): Promise<void> {
    await releaseClaim(this.deps.fingerprints, fingerprint, (holder) => holder.keyId === keyId);
  }

  /**
   * Gives every live key its slot and fingerprint claim: keys stored before claims existed, and any
   * whose claim a crash or a race lost. Reads both claim collections whole, so it belongs to start-up.
   */
  async backfill(live: { keyId: string; userId: string; fingerprint: string }[]): Promise<Backfilled> {
    const { slots, fingerprints, maxKeysPerUser: cap } = this.deps;
    const slotted = await slots.find({}, { keyId: 1 }).lean();
    const withSlot = new Set(slotted.map((slot) => slot.keyId));
    const taken = new Set(slotted.map((slot) => slot._id));
    const claimed = new Set((await fingerprints.find({}, { _id: 1 }).lean()).map((holder) => holder._id));
    const done: Backfilled = { slots: 0, fingerprints: 0, overCap: [] };
    for (const { keyId, userId, fingerprint } of live) {
      if (!claimed.has(fingerprint) && await claim(fingerprints, { _id: fingerprint, keyId, userId })) done.fingerprints += 1;
      if (withSlot.has(keyId)) continue;
      let placed = false;
      for (let n = 0; n < cap && !placed; n += 1) {
        const id = slotId(userId, n);
        if (taken.has(id)) continue;
        taken.add(id);
        // A replica starting beside this one may have placed the same key in this very slot.
        placed = await claim(slots, { _id: id, keyId }) || (await slots.findById(id, { keyId: 1 }).lean())?.keyId === keyId;
        if (placed) done.slots += 1;
      }
      if (!placed) done.overCap.push(keyId);
    }
    return done;
  }

  private async staleSlots(userId: string): Promise<string[]> {
    const held = await this.slotsOf(userId);
    const keys = await Promise.all(held.map((slot) => this.keyOf(slot.keyId)));
    return held.filter((slot, i) => this.isStale(slot.createdAt, keys[i] ?? null)).map((slot) => slot._id);
  }

  private keyOf(keyId: string) {
    return this.deps.keys.findById(keyId, { deletedAt: 1 }).lean();
  }

  private isStale(claimedAt: Date, key: { deletedAt: Date | null } | null): boolean {
    const since = key ? key.deletedAt : claimedAt;
    return since !== null && Date.now() - since.getTime() > this.deps.staleAfterMs;
  }
}
