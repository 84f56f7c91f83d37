import { Box, Text } from 'ink';
import { elapsed, type StepView } from '../host/host-view.js';

const marks = { pending: { glyph: '·', color: 'gray' }, running: { glyph: '…', color: 'yellow' }, done: { glyph: '✔', color: 'green' }, failed: { glyph: '✘', color: 'red' } } as const;

/** The set-up steps, each with its state and how long it took (or has been running). */
export function StepList({ steps, now }: { steps: StepView[]; now: number }) {
  return (
    <Box flexDirection="column">
      {steps.map((step) => {
        const mark = marks[step.status];
        const time = elapsed(step, now);
        return (
          <Box key={step.id} gap={1}>
            <Text color={mark.color}>{mark.glyph}</Text>
            <Text dimColor={step.status === 'pending'}>{step.title}</Text>
            {time && <Text dimColor>{time}</Text>}
            {step.detail && <Text color={step.status === 'failed' ? 'red' : 'gray'}>{step.detail}</Text>}
          </Box>
        );
      })}
    </Box>
  );
}
