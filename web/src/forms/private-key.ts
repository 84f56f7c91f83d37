/**
 * The markers of packages/ssh-keys' screen-input.ts (which cannot be bundled: it needs Node's Buffer).
 * The server would refuse such a paste too, but a private key should not travel or reach its logs at all.
 */
const privateKeyMarkers: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/,
  /---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----/,
  /PuTTY-User-Key-File-\d+:/,
  /b3BlbnNzaC1rZXktdjE/,
];

/** The server's own words for this refusal, so the page reads the same whichever side caught it. */
export const privateKeyMessage = 'This looks like a private key. Paste the public key: the contents of the .pub file.';

export function looksLikePrivateKey(text: string): boolean {
  return privateKeyMarkers.some((marker) => marker.test(text));
}
