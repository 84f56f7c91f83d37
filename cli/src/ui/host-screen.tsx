import { Box, Text } from 'ink';
import type { HostView } from '../host/host-view.js';
import { GuestList } from './guest-list.js';
import { JoinCard } from './join-card.js';
import { StepList } from './step-list.js';

/** The whole host screen for one moment of the flow; keys are handled by its container. */
export function HostScreen({ view, now }: { view: HostView; now: number }) {
  return (
    <Box flexDirection="column" gap={1}>
      <StepList steps={view.steps} now={now} />
      {view.notices.map((notice, i) => <Text key={i} color="yellow">{notice}</Text>)}
      {view.session && view.phase === 'ready' && (
        <>
          <JoinCard session={view.session} />
          <GuestList invited={view.session.guests} connected={view.connected} />
          <Text>
            <Text bold>Enter</Text> attach to tmux (detach with Ctrl-b d to come back here) · <Text bold>q</Text> end the session
          </Text>
        </>
      )}
      {view.phase === 'setting-up' && <Text dimColor>Ctrl-C stops and undoes what was done.</Text>}
      {view.phase === 'ending' && <Text color="yellow">Ending the session ({view.endReason})…</Text>}
      {view.phase === 'ended' && (
        <Box flexDirection="column">
          <Text>Session over ({view.endReason}): guests removed, lease released, tunnel closed.</Text>
          {view.problems.map((problem, i) => <Text key={i} color="red">{problem}</Text>)}
        </Box>
      )}
    </Box>
  );
}
