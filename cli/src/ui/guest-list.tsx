import { Box, Text } from 'ink';
import type { ConnectedGuest, Guest } from '../host/host-events.js';

const clock = (date: Date) => date.toTimeString().slice(0, 5);

/** Every invited guest, connected or still expected, and any client we cannot tie to an invitation. */
export function GuestList({ invited, connected }: { invited: Guest[]; connected: ConnectedGuest[] }) {
  const strangers = connected.filter((client) => !invited.some((guest) => guest.username === client.username));
  return (
    <Box flexDirection="column">
      <Text bold>Guests</Text>
      {invited.map((guest) => {
        const clients = connected.filter((client) => client.username === guest.username);
        const since = clients.map((client) => client.since).sort((a, b) => a.getTime() - b.getTime())[0];
        return (
          <Box key={guest.username} gap={1}>
            <Text color={since ? 'green' : 'gray'}>{since ? '●' : '○'}</Text>
            <Text>{guest.username}</Text>
            <Text dimColor>{guest.access === 'ro' ? 'watches (read-only)' : 'may type'}</Text>
            <Text color={since ? 'green' : 'gray'}>{since ? `connected since ${clock(since)}${clients.length > 1 ? ` (${clients.length} terminals)` : ''}` : 'not connected'}</Text>
          </Box>
        );
      })}
      {strangers.length > 0 && <Text color="yellow">{strangers.length} other terminal(s) attached</Text>}
    </Box>
  );
}
