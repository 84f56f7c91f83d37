import { Box, Text } from 'ink';
import type { ReadySession } from '../host/host-events.js';
import { clock, type Move } from '../host/host-view.js';
import { joinChoices } from '../lib/join-commands.js';

export interface JoinCardProps {
  session: ReadySession;
  /** The session's last move to another box: its commands are the new ones, and the card says why they changed. */
  moved?: Move;
}

/** What the host reads out or pastes to a guest: the command that joins, and the key that proves it is us. */
export function JoinCard({ session, moved }: JoinCardProps) {
  const { command, pinned, viaSshPort, privateReason } = joinChoices(session);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={moved ? 'yellow' : 'green'} paddingX={1}>
      {moved && (
        <Text color="yellow">
          Moved at {clock(moved.at)} to {moved.to.tunnelHost} port {moved.to.port}: {moved.from.tunnelHost} stopped answering.
        </Text>
      )}
      <Text bold>Your guests were mailed{moved ? ' the new command' : ''}. They join with:</Text>
      <Text color="cyan">  {command}</Text>
      {privateReason && <Text color="yellow">{privateReason}</Text>}
      {session.hostKeyFingerprint && <Text dimColor>host key {session.hostKeyFingerprint}</Text>}
      {pinned && (
        <>
          <Text>or, with the host key pinned (nothing to confirm):</Text>
          <Text color="cyan" wrap="truncate-middle">  {pinned}</Text>
        </>
      )}
      {/* Its pinned variant is in the mail and `tmuxme sessions`: two hops of keys would not fit a line here. */}
      {viaSshPort && (
        <>
          <Text>or, where only the box&apos;s SSH port gets through:</Text>
          <Text color="cyan" wrap="truncate-middle">  {viaSshPort.command}</Text>
        </>
      )}
      <Text dimColor>or `tmuxme join {session.id}`{viaSshPort ? ' (it finds the way that gets through)' : ''}</Text>
    </Box>
  );
}
