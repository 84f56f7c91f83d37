import { Box, Text } from 'ink';
import type { ConnectedGuest, Guest } from '../host/host-events.js';
import { clock, type Departure } from '../host/host-view.js';

export interface GuestListProps {
  invited: Guest[];
  connected: ConnectedGuest[];
  departed?: Departure[];
  /** Where the host can disconnect guests: a column that marks the one chosen. */
  selectable?: boolean;
  selected?: string;
}

function presence(guest: Guest, connected: ConnectedGuest[], departed: Departure[]): { text: string; here: boolean } {
  const clients = connected.filter((client) => client.username === guest.username);
  const since = clients.map((client) => client.since).sort((a, b) => a.getTime() - b.getTime())[0];
  if (since) return { text: `connected since ${clock(since)}${clients.length > 1 ? ` (${clients.length} terminals)` : ''}`, here: true };
  const left = departed.filter((departure) => departure.guest.username === guest.username).at(-1);
  return { text: left ? `left at ${clock(left.at)}` : 'not connected', here: false };
}

/** Every invited guest, connected, gone or still expected, and any client we cannot tie to an invitation. */
export function GuestList({ invited, connected, departed = [], selectable = false, selected }: GuestListProps) {
  const strangers = connected.filter((client) => !invited.some((guest) => guest.username === client.username));
  return (
    <Box flexDirection="column">
      <Text bold>Guests</Text>
      {invited.map((guest) => {
        const { text, here } = presence(guest, connected, departed);
        return (
          <Box key={guest.username} gap={1}>
            {selectable && <Text color="cyan">{guest.username === selected ? '›' : ' '}</Text>}
            <Text color={here ? 'green' : 'gray'}>{here ? '●' : '○'}</Text>
            <Text>{guest.username}</Text>
            <Text dimColor>{guest.access === 'ro' ? 'watches (read-only)' : 'may type'}</Text>
            <Text color={here ? 'green' : 'gray'}>{text}</Text>
          </Box>
        );
      })}
      {strangers.length > 0 && <Text color="yellow">{strangers.length} other terminal(s) attached</Text>}
    </Box>
  );
}
