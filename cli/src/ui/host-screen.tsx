import { Box, Text } from 'ink';
import type { HostView } from '../host/host-view.js';
import { GuestList } from './guest-list.js';
import { JoinCard } from './join-card.js';
import { StepList } from './step-list.js';

export interface HostScreenProps {
  view: HostView;
  now: number;
  /** Present where guests can be disconnected: who is chosen, and who a disconnect waits to be confirmed for. */
  picker?: { selected?: string; confirming?: string };
}

/** The whole host screen for one moment of the flow; keys are handled by its container. */
export function HostScreen({ view, now, picker }: HostScreenProps) {
  return (
    <Box flexDirection="column" gap={1}>
      {view.mode && <Text color="cyan">{view.mode.reason}</Text>}
      <StepList steps={view.steps} now={now} />
      {view.notices.map((notice, i) => <Text key={i} color="yellow">{notice}</Text>)}
      {view.session && view.phase === 'ready' && (
        <>
          <JoinCard session={view.session} moved={view.moved} />
          <GuestList invited={view.session.guests} connected={view.connected} departed={view.departed} selectable={picker !== undefined} selected={picker?.selected} />
          {picker?.confirming !== undefined
            ? <Text color="yellow">Disconnect {picker.confirming}? <Text bold>y</Text> yes · any other key keeps them</Text>
            : (
              <Box flexDirection="column">
                <Text>
                  <Text bold>Enter</Text> attach to tmux (detach with Ctrl-b d to come back here) · <Text bold>q</Text> end the session
                </Text>
                {picker && <Text><Text bold>↑↓</Text> choose a guest · <Text bold>d</Text> disconnect them</Text>}
              </Box>
            )}
        </>
      )}
      {view.phase === 'setting-up' && <Text dimColor>Ctrl-C stops and undoes what was done.</Text>}
      {view.phase === 'ending' && <Text color="yellow">Ending the session ({view.endReason})…</Text>}
      {view.phase === 'ended' && (
        <Box flexDirection="column">
          <Text>Session over ({view.endReason}): guests removed, lease released, tunnel closed.</Text>
          {view.problems.map((problem, i) => <Text key={i} color="red">{problem}</Text>)}
          {view.keptTmux && <Text>Your tmux session goes on (--keep-tmux); attach to it with: <Text bold>{view.keptTmux}</Text></Text>}
        </Box>
      )}
    </Box>
  );
}
