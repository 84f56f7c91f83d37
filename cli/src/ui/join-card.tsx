import { Box, Text } from 'ink';
import type { ReadySession } from '../host/host-events.js';

/** What the host reads out or pastes to a guest: the command that joins, and the key that proves it is us. */
export function JoinCard({ session }: { session: ReadySession }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="green" paddingX={1}>
      <Text bold>Your guests were mailed. They join with:</Text>
      <Text color="cyan">  {session.joinCommand}</Text>
      {session.hostKeyFingerprint && <Text dimColor>host key {session.hostKeyFingerprint}</Text>}
      {session.pinnedJoinCommand && (
        <>
          <Text>or, with the host key pinned (nothing to confirm):</Text>
          <Text color="cyan" wrap="truncate-middle">  {session.pinnedJoinCommand}</Text>
        </>
      )}
      <Text dimColor>or `tmuxme join {session.id}`</Text>
    </Box>
  );
}
