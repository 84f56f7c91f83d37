import { badRequest } from '@tmuxme/service-kit';

/** Like GitHub's: lower-case letters and digits, single inner hyphens, 1 to 39 characters. */
const usernamePattern = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/;

/** Names that would read as ours in a mail, a URL or a shell prompt. */
const reserved = new Set([
  'admin', 'administrator', 'api', 'root', 'tunnel', 'tmuxme', 'tmux', 'www', 'mail', 'email', 'support', 'help',
  'security', 'abuse', 'postmaster', 'hostmaster', 'webmaster', 'noreply', 'no-reply', 'system', 'sshd', 'ssh',
  'login', 'logout', 'signup', 'settings', 'user', 'users', 'session', 'sessions', 'keys', 'static', 'assets',
  'healthz', 'readyz', 'metrics', 'guest', 'nobody', 'daemon', 'staff', 'team', 'status', 'docs', 'about',
]);

export function checkNewUsername(username: string): string {
  if (username !== username.toLowerCase() && username.toLowerCase().match(usernamePattern)) {
    throw badRequest('INVALID_USERNAME', `Usernames are lower-case: try "${username.toLowerCase()}".`, { field: 'username' });
  }
  if (!usernamePattern.test(username)) {
    throw badRequest('INVALID_USERNAME',
      'A username has 1 to 39 characters: lower-case letters a–z, digits, and single hyphens between them.',
      { field: 'username' });
  }
  if (reserved.has(username)) {
    throw badRequest('RESERVED_USERNAME', `"${username}" is reserved; pick another username.`, { field: 'username' });
  }
  return username;
}

/** Where a username is looked up rather than created, case does not matter. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}
