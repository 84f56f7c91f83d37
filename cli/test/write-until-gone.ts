import { writeFileSync } from 'node:fs';
import { guardStandardStreams, onOutputLost } from '../src/lib/standard-streams.js';

/**
 * For standard-streams.test.ts: writes to stdout and stderr until they are gone, then writes what it was told
 * to the file named first and exits with the status it was given. `unguarded` leaves Node's own behaviour.
 */
const [reportFile, mode] = process.argv.slice(2);
if (mode !== 'unguarded') guardStandardStreams();
// A closing terminal also sends SIGHUP; this child is about the writes that fail after it.
process.on('SIGHUP', () => {});
onOutputLost((loss) => {
  writeFileSync(reportFile!, JSON.stringify(loss));
  process.exit(loss.exitCode);
});
setInterval(() => {
  process.stdout.write('.');
  process.stderr.write('.');
}, 10);
