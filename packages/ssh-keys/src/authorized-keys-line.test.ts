import { describe, expect, it } from '@jest/globals';
import { authorizedKeysLine } from './authorized-keys-line.js';
import { parsePublicKey } from './parse-public-key.js';
import { ed25519Blob, expectRejected, keyLine } from './test-helpers.js';

const parsed = parsePublicKey(keyLine('ssh-ed25519', ed25519Blob(), 'user comment is dropped'));

describe('authorizedKeysLine', () => {
  it('writes type, blob and our comment, never the user comment', () => {
    const line = authorizedKeysLine(parsed, 'tmuxme:key:42');
    expect(line).toBe(`ssh-ed25519 ${parsed.blob} tmuxme:key:42`);
    expect(parsePublicKey(line).fingerprint).toBe(parsed.fingerprint);
  });

  it.each(['', 'has space', 'new\nline', 'café', 'tab\there'])('refuses the comment %j', (comment) => {
    expect(() => authorizedKeysLine(parsed, comment)).toThrow(RangeError);
  });

  it('refuses a stored blob that would inject a second authorized_keys entry', () => {
    const smuggled = { type: parsed.type, blob: `${parsed.blob}\ncommand="sh" ${keyLine('ssh-ed25519', ed25519Blob())}` };
    expectRejected(() => authorizedKeysLine(smuggled, 'c'), 'multiple-keys');
    const optionsOnly = { type: parsed.type, blob: `${parsed.blob}\ncommand="sh"` };
    expectRejected(() => authorizedKeysLine(optionsOnly, 'c'), 'control-characters');
  });

  it('refuses stored values that are not exactly canonical', () => {
    expectRejected(() => authorizedKeysLine({ type: parsed.type, blob: `${parsed.blob} extra` }, 'c'), 'malformed');
    expectRejected(() => authorizedKeysLine({ type: ` ${parsed.type}`, blob: parsed.blob }, 'c'), 'malformed');
    expectRejected(() => authorizedKeysLine({ type: 'ssh-rsa', blob: parsed.blob }, 'c'), 'type-mismatch');
  });
});
