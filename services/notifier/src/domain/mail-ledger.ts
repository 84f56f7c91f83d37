import type mongoose from 'mongoose';
import type { MailClaimDocument } from '../model/mail-claim.js';
import type { SentMailDocument } from '../model/sent-mail.js';

/**
 * Why every mail (one event, one recipient) goes out once, across replicas and crashes.
 *
 * FerretDB v1 has no atomic update, and its filtered delete is a find followed by a delete by _id,
 * so neither can settle a race. Only an insert under a unique _id can, so every step is one:
 *
 * 1. Only the holder of a claim sends. A claim is the insert of `<mail>#<generation>`; of replicas racing
 *    for the same generation exactly one insert succeeds, the others get E11000 and retry later.
 * 2. After the SMTP server accepted, the holder inserts `sent_mails/<mail>`. Whoever finds it sends nothing.
 * 3. A holder that died leaves its claim behind. Once that claim is older than the lease, the next
 *    generation may be claimed (again by one replica only), after which the sent record is checked
 *    again, since the old holder may have written it meanwhile.
 * 4. A live holder is done before its lease ends: its send starts right after the claim (no more sends
 *    run than the SMTP pool has connections) and the transport's timeouts bound it, well inside the lease.
 * 5. A holder whose send failed gives its claim back (deletes its own _id) while the claim is young, so
 *    the retry need not wait out the lease; no later generation can exist then. Hence whoever wins
 *    generation 0 is the first holder or follows failed sends only, and need not look for a sent record.
 *
 * What remains is an acceptance the holder never learnt of or could not record (a crash, a connection
 * lost after the message was sent, the database gone before step 2): that mail goes out again, with the
 * same Message-ID, which mail clients use to show it once. Closing that gap would need the SMTP server
 * to take part in the protocol. Expiry compares the claimant's clock with the retaker's, so replicas'
 * clocks must agree to well within the lease.
 */
export interface Claim {
  mail: string;
  generation: number;
  claimedAt: Date;
}

export interface MailLedgerDeps {
  claims: mongoose.Collection<MailClaimDocument>;
  sent: mongoose.Collection<SentMailDocument>;
  leaseMs: number;
  /** Names this replica in its claims. */
  holder: string;
}

/** Another replica is sending this mail right now; the event is retried after a delay. */
export class MailClaimedError extends Error {
  override name = 'MailClaimedError';
  constructor(mail: string, holder: string | undefined) {
    super(`${holder ?? 'another replica'} is sending ${mail}; trying again later`);
  }
}

const isDuplicateKey = (error: unknown) => (error as { code?: unknown } | null)?.code === 11000;

export class MailLedger {
  constructor(private readonly deps: MailLedgerDeps) {}

  /** A claim to send the mail now, or undefined when it was sent already. */
  async claim(mail: string): Promise<Claim | undefined> {
    const first = await this.tryClaim(mail, 0);
    if (first) return first;
    if (await this.wasSent(mail)) return undefined;
    const latest = await this.latestClaim(mail);
    if (latest && Date.now() - latest.claimedAt.getTime() < this.deps.leaseMs) throw new MailClaimedError(mail, latest.holder);
    // No claim at all means generation 0 was just given back: take it as a fresh one.
    const retaken = await this.tryClaim(mail, latest ? latest.generation + 1 : 0);
    if (!retaken) throw new MailClaimedError(mail, undefined);
    return (await this.wasSent(mail)) ? undefined : retaken;
  }

  async recordSent(claim: Claim, details: { sessionId: string; messageId: string }): Promise<void> {
    try {
      await this.deps.sent.insertOne({ _id: claim.mail, ...details, sentAt: new Date() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** After a failed send; best effort, since a claim left behind only delays the retry until it expires. */
  async release(claim: Claim): Promise<void> {
    if (Date.now() - claim.claimedAt.getTime() >= this.deps.leaseMs / 2) return;
    await this.deps.claims.deleteOne({ _id: claimId(claim.mail, claim.generation) }).catch(() => {});
  }

  private async tryClaim(mail: string, generation: number): Promise<Claim | undefined> {
    const claimedAt = new Date();
    try {
      await this.deps.claims.insertOne({ _id: claimId(mail, generation), generation, claimedAt, holder: this.deps.holder });
      return { mail, generation, claimedAt };
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  /** Generations are few and have no gaps (only the newest is ever given back), so probing by _id finds the last without a scan. */
  private async latestClaim(mail: string) {
    let latest: MailClaimDocument | undefined;
    for (let generation = 0; ; generation += 1) {
      const claim = await this.deps.claims.findOne({ _id: claimId(mail, generation) });
      if (!claim) return latest;
      latest = claim;
    }
  }

  private async wasSent(mail: string): Promise<boolean> {
    return (await this.deps.sent.findOne({ _id: mail }, { projection: { _id: 1 } })) !== null;
  }
}

const claimId = (mail: string, generation: number) => `${mail}#${generation}`;
