import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runAsRoot, type ExplainPrivilege } from './privileged.js';

const run = promisify(execFile);

/** The one local account every guest logs in as (docs/architecture.md §6). */
export const defaultGuestUserName = 'tmuxme';

// sshd runs a key's forced command through the login shell: with nologin or
// false it would never start tmux.
const guestShell = '/bin/sh';

export interface LocalUser {
  name: string;
  uid: number;
  /** The group of the same name: the socket directory is shared with it. */
  gid: number;
  home: string;
}

interface PasswdEntry { uid: number; primaryGid: number; home: string; shell: string }
interface GroupEntry { gid: number; members: string[] }

export interface EnsureLocalUserOptions {
  /** Tests use a throwaway name; the product always uses `tmuxme`. */
  name?: string;
  explain: ExplainPrivilege;
}

/**
 * Makes sure the guests' account exists as docs/architecture.md §6 wants it: shell
 * /bin/sh, a group of its name that it belongs to. Does nothing (and needs no
 * privilege) when all is in place; otherwise fixes it as root, through sudo
 * when we are not root.
 */
export async function ensureLocalUser({ name = defaultGuestUserName, explain }: EnsureLocalUserOptions): Promise<LocalUser> {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name)) throw new Error(`not a safe local user name: ${JSON.stringify(name)}`);
  const user = await readPasswd(name);
  const group = await readGroup(name);
  if (!user) {
    await createUser(name, group !== undefined, explain);
  } else {
    await repairUser(name, user, group, explain);
  }
  const fixed = await findLocalUser(name);
  if (!fixed) throw new Error(`the local user ${name} is still missing or misconfigured after creating it`);
  return fixed;
}

/** The account if it is usable as is (shell /bin/sh, member of its group), else undefined. */
export async function findLocalUser(name: string = defaultGuestUserName): Promise<LocalUser | undefined> {
  const [user, group] = await Promise.all([readPasswd(name), readGroup(name)]);
  if (!user || !group || user.shell !== guestShell || !belongsTo(name, user, group)) return undefined;
  return { name, uid: user.uid, gid: group.gid, home: user.home };
}

async function createUser(name: string, groupExists: boolean, explain: ExplainPrivilege): Promise<void> {
  // A password of `*` matches nothing but, unlike useradd's default `!`, is
  // not "locked": sshd with `UsePAM no` refuses locked accounts even for keys.
  const useradd = [
    'useradd', '--system', '--create-home', '--home-dir', `/home/${name}`, '--shell', guestShell,
    '--comment', 'tmux.me guests', '--password', '*',
    // A group left behind by an earlier userdel makes --user-group fail.
    ...(groupExists ? ['--gid', name] : ['--user-group']),
    name,
  ] as const;
  try {
    await runAsRoot(useradd, { reason: `creating the local user "${name}" that your guests log in as`, explain });
  } catch (error) {
    // Another tmuxme started at the same moment may have created it first.
    if (!(await readPasswd(name))) throw error;
  }
}

async function repairUser(name: string, user: PasswdEntry, group: GroupEntry | undefined, explain: ExplainPrivilege): Promise<void> {
  const reason = `fixing the local user "${name}" that your guests log in as`;
  if (!group) await runAsRoot(['groupadd', '--system', name], { reason, explain });
  const joinGroup = !group || !belongsTo(name, user, group);
  const changes = [
    ...(user.shell === guestShell ? [] : ['--shell', guestShell]),
    ...(joinGroup ? ['--append', '--groups', name] : []),
  ];
  if (changes.length > 0) await runAsRoot(['usermod', ...changes, name], { reason, explain });
}

function belongsTo(name: string, user: PasswdEntry, group: GroupEntry): boolean {
  return user.primaryGid === group.gid || group.members.includes(name);
}

async function readPasswd(name: string): Promise<PasswdEntry | undefined> {
  const fields = await getent('passwd', name);
  if (!fields) return undefined;
  const [, , uid, gid, , home, shell] = fields;
  return { uid: Number(uid), primaryGid: Number(gid), home: home ?? '', shell: shell ?? '' };
}

async function readGroup(name: string): Promise<GroupEntry | undefined> {
  const fields = await getent('group', name);
  if (!fields) return undefined;
  const [, , gid, members] = fields;
  return { gid: Number(gid), members: members ? members.split(',') : [] };
}

/** One entry's fields from the system's databases (files, LDAP, …), or undefined when there is none. */
async function getent(database: 'passwd' | 'group', key: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await run('getent', [database, key]);
    return stdout.trim().split(':');
  } catch (error) {
    // getent exits 2 for "no such key"; anything else is a real failure.
    if ((error as { code?: unknown }).code === 2) return undefined;
    throw error;
  }
}
