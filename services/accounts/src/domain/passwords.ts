import bcrypt from 'bcryptjs';
import { badRequest } from '@tmuxme/service-kit';

export const minPasswordBytes = 10;
/** bcrypt ignores every byte from the 73rd on, so a longer password would be a lie. */
export const maxPasswordBytes = 72;

export function checkNewPassword(password: string, field = 'password'): string {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes < minPasswordBytes) {
    throw badRequest('PASSWORD_TOO_SHORT', `Passwords need at least ${minPasswordBytes} characters.`, { field });
  }
  if (bytes > maxPasswordBytes) {
    throw badRequest('PASSWORD_TOO_LONG', `Passwords can be at most ${maxPasswordBytes} bytes (bcrypt ignores the rest).`, { field });
  }
  return password;
}

export class PasswordHasher {
  /** Compared against when the account does not exist, so that costs the same time as a wrong password. */
  private readonly decoy: Promise<string>;

  constructor(private readonly cost: number) {
    this.decoy = bcrypt.hash('not a password of anyone', cost);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const matches = await bcrypt.compare(password, hash ?? await this.decoy);
    return matches && hash !== undefined;
  }
}
