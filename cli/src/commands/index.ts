import type { Command } from './command.js';
import { hostCommand } from './host.js';
import { joinCommand } from './join.js';
import { keysCommand } from './keys.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { sessionsCommand } from './sessions.js';
import { signupCommand } from './signup.js';

/** Every command, in the order `tmuxme --help` lists them. Hosting (`tmuxme <guest>…`) is the default. */
export const commands: Command[] = [
  hostCommand,
  signupCommand,
  loginCommand,
  logoutCommand,
  keysCommand,
  sessionsCommand,
  joinCommand,
];
