import { timingSafeEqual } from 'node:crypto';
import ssh2, { type ParsedKey, type PublicKeyAuthContext } from 'ssh2';
import { canonicalPublicKey } from './guest-authorized-keys.js';

/** A guest invited to this session, with the public keys the keys API gave for them. */
export interface InvitedGuest {
  username: string;
  access: 'rw' | 'ro';
  /** authorized_keys-style lines: `<type> <base64> [comment]`. */
  publicKeys: readonly string[];
}

/** A key that cannot admit anyone here, and why (ssh2 cannot verify security-key signatures, for one). */
export interface UnusableKey {
  username: string;
  key: string;
  reason: string;
}

interface GuestKey {
  guest: InvitedGuest;
  blob: Buffer;
  parsed: ParsedKey;
}

export type KeyCheck =
  /** The key is one of a guest's, no signature yet: the client only asks whether we would take it. */
  | { outcome: 'acceptable'; guest: InvitedGuest }
  | { outcome: 'verified'; guest: InvitedGuest }
  | { outcome: 'unknown-key' }
  | { outcome: 'bad-signature'; guest: InvitedGuest };

/**
 * The invited guests' keys. A guest is whoever holds one of their keys: all
 * guests type the same SSH username (`tmuxme@box`), so the key is the only
 * thing that tells them apart.
 */
export class GuestKeyring {
  private readonly keys: GuestKey[] = [];
  readonly unusable: UnusableKey[] = [];

  constructor(guests: readonly InvitedGuest[]) {
    for (const guest of guests) {
      for (const line of guest.publicKeys) {
        const key = usableKey(line);
        if ('reason' in key) this.unusable.push({ username: guest.username, key: line.slice(0, 80), reason: key.reason });
        else this.keys.push({ guest, ...key });
      }
    }
  }

  check(ctx: Pick<PublicKeyAuthContext, 'key' | 'signature' | 'blob' | 'hashAlgo'>): KeyCheck {
    const found = this.find(ctx.key.data);
    if (!found) return { outcome: 'unknown-key' };
    if (!ctx.signature || !ctx.blob) return { outcome: 'acceptable', guest: found.guest };
    return found.parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true
      ? { outcome: 'verified', guest: found.guest }
      : { outcome: 'bad-signature', guest: found.guest };
  }

  /** Compares against every key, each in constant time, so the time taken says nothing about the keys held. */
  private find(blob: Buffer): GuestKey | undefined {
    let found: GuestKey | undefined;
    for (const key of this.keys) {
      if (key.blob.length === blob.length && timingSafeEqual(key.blob, blob)) found ??= key;
    }
    return found;
  }
}

function usableKey(line: string): Omit<GuestKey, 'guest'> | { reason: string } {
  let canonical: string;
  try {
    canonical = canonicalPublicKey(line.trim().split(/\s+/).slice(0, 2).join(' '));
  } catch (error) {
    return { reason: (error as Error).message };
  }
  const parsed = ssh2.utils.parseKey(canonical);
  if (parsed instanceof Error) return { reason: `ssh2 cannot use this key: ${parsed.message}` };
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return { reason: 'no key in the line' };
  return { blob: key.getPublicSSH(), parsed: key };
}
