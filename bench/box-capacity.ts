/**
 * How many idle reverse forwards one tunnel box holds, and what each costs it, on a real box (its own
 * OpenSSH sshd, as root) whose tunnel user's authorized_keys holds one line per host key, each pinned to
 * its port, written by tunnel-sync's own renderer and writer. The forwards are hosts' `ssh -N -R
 * PORT:localhost:22 tunnel@box`, held from this one process as ssh2 connections opened as the CLI's
 * embedded tunnel opens them: an ssh process each would not fit beside the two sshd keeps per forward.
 *
 * At the empty box, then at each of BOX_STEPS and BOX_FORWARDS forwards: the box's sshd processes, their
 * total PSS, the PSS and kernel memory added per forward, and PROBES logins of one new forward at that
 * load (TCP connect → forward accepted; its key's line last in the file, so sshd reads the whole file,
 * twice, as it does per login). A step this machine has no room for (processes, open files, memory) is
 * cut to what fits; what was not measured is extrapolated, saying so. Forwards listen from BOX_FIRST_PORT
 * up, away from the 20000–29999 the e2e stack leases, so this can run while the tests do.
 *
 *   sudo npm run bench:box-capacity     (BOX_FORWARDS=10000 BOX_STEPS=1000,2500,5000 PROBES=10 BOX_CONCURRENCY=20
 *                                        BOX_FIRST_PORT=10000 BOX_MEMORY_GB=24 by default; BENCH_QUICK=1: BOX_FORWARDS=300
 *                                        BOX_STEPS=100; BOX_MEMORY_GB is what a box has for sshd, for the boxes needed)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startTunnelBox, type TunnelBox } from '@tmuxme/testing';
import { AuthorizedKeysWriter, renderAuthorizedKeys, type KeyEntry, type LeaseEntry } from '@tmuxme/tunnel-sync';
import { listenerPid, processTree, signalSshd, totalPssKb } from './src/box-processes.js';
import { freeForwardPorts, holdForward, type HeldForward } from './src/held-forward.js';
import { timedConcurrently } from './src/load.js';
import { fileRoom, kernelKb, memoryRoom, processRoom, raiseFileLimit } from './src/machine-room.js';
import { ed25519Pair } from './src/openssh-key.js';
import { figures } from './src/report.js';
import { quick, size } from './src/sizes.js';
import { percentile } from './src/stats.js';

const target = size('BOX_FORWARDS', 10_000, 300);
const askedSteps = (process.env.BOX_STEPS ?? (quick ? '100' : '1000,2500,5000')).split(',').map(Number);
if (askedSteps.some((step) => !Number.isInteger(step) || step <= 0)) throw new Error(`BOX_STEPS must be positive whole numbers, not ${process.env.BOX_STEPS}`);
const steps = [...new Set([...askedSteps.filter((step) => step < target), target])].sort((a, b) => a - b);
const probeCount = size('PROBES', 10, 10);
// Below the box's MaxStartups 30 (sshd-config.template; OpenSSH's default is 10), from which sshd drops
// new unauthenticated connections at random; a dropped handshake is tried again all the same.
const concurrency = size('BOX_CONCURRENCY', 20, 20);
const firstPort = size('BOX_FIRST_PORT', 10_000, 10_000);
const memoryGb = size('BOX_MEMORY_GB', 24, 24);
/** sessions' default TUNNEL_PORT_RANGE, 20000–29999: one forward per port. */
const portsPerBox = 10_000;
/** Per forward, until a step has measured it: sshd's two processes and this process's connection, generously. */
const guessedBytesPerForward = 3 * 2 ** 20;
const MB = 1024;

const figure = figures('box-capacity');
const started = performance.now();
const mb = (kb: number) => kb / MB;

interface Host { entry: KeyEntry; lease: LeaseEntry; privateKey: string }
function host(userId: string, port: number): Host {
  const { publicKey, privateKey } = ed25519Pair(userId);
  return { entry: { keyId: `k-${userId}`, userId, key: publicKey }, lease: { leaseId: `l-${userId}`, userId, port, private: false }, privateKey };
}

interface Step {
  forwards: number;
  processes: number;
  pssKb: number;
  /** The kernel's kB for processes and sockets (kernelKb). */
  kernelKb: number;
  /** What the machine could still give (memoryRoom) and this process's RSS, both in bytes, before the probes. */
  free: number;
  rss: number;
  /** ms of each new forward's login at this load. */
  logins: number[];
}

let box: TunnelBox | undefined;
let writer: AuthorizedKeysWriter | undefined;
const held: HeldForward[] = [];
let cleaning: Promise<number> | undefined;

/**
 * Connections first: an sshd child outlives its listener's stop while its client stays. Resolves with
 * how many of the box's sshd processes are still there after (0 unless something went wrong).
 */
function cleanUp(): Promise<number> {
  cleaning ??= (async () => {
    const listener = box && await listenerPid(box.port).catch(() => undefined);
    const before = listener ? await processTree(listener) : [];
    for (let i = 0; i < held.length; i += 1000) await Promise.all(held.slice(i, i + 1000).map((forward) => forward.close()));
    await writer?.close();
    for (let waited = 0; listener && waited < 30; waited += 1) {
      const left = (await processTree(listener)).slice(1);
      if (left.length === 0) break;
      if (waited === 29) console.error(`${await signalSshd(left, 'SIGKILL')} sshd processes of the box were still there after 30 s: killed`);
      await sleep(1000);
    }
    await box?.stop();
    return signalSshd(before, 0);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: closing ${held.length} forwards and the box…`);
    void cleanUp().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  });
}

/** One new host's forward, PROBES times, each closed before the next: ms of each login. */
async function probeLogins(probes: Host[]): Promise<number[]> {
  const times: number[] = [];
  for (const probe of probes) {
    const forward = await holdForward(options(probe));
    times.push(forward.ms);
    await forward.close();
  }
  return times;
}

const options = (h: Host) => ({
  host: box!.host, port: box!.port, hostPublicKey: box!.hostPublicKey, user: 'tunnel', privateKey: h.privateKey, remotePort: h.lease.port,
});

const measured: Step[] = [];
const notes: string[] = [];
const p = (step: Step, q: number) => percentile(step.logins, q);
/** kB each forward added since the empty box: sshd's PSS, the kernel's share, and all the machine gave (this process's own aside). */
const perForward = (step: Step) => {
  const empty = measured[0]!;
  return {
    pss: (step.pssKb - empty.pssKb) / step.forwards,
    kernel: (step.kernelKb - empty.kernelKb) / step.forwards,
    machine: (empty.free - step.free - (step.rss - empty.rss)) / 1024 / step.forwards,
    here: (step.rss - empty.rss) / 1024 / step.forwards,
  };
};

async function measure(forwards: number, probes: Host[]): Promise<Step> {
  // The last connections' sshd children finish setting up after their forward was accepted.
  await sleep(2000);
  const dropped = held.filter((forward) => forward.dropped).length;
  if (dropped > 0) throw new Error(`the box dropped ${dropped} of the ${held.length} forwards held`);
  const pids = await processTree(await listenerPid(box!.port));
  if (pids.length !== 2 * forwards + 1) notes.push(`at ${forwards} forwards the box ran ${pids.length} sshd processes, not the ${2 * forwards + 1} expected`);
  const [pssKb, kernel, { free }, { rss }] = [await totalPssKb(pids), await kernelKb(), await memoryRoom(), process.memoryUsage()];
  const step = { forwards, processes: pids.length, pssKb, kernelKb: kernel, free, rss, logins: await probeLogins(probes) };
  measured.push(step);
  const each = forwards > 0 && perForward(step);
  const costs = each ? ` (per forward: PSS ${each.pss.toFixed(0)} kB, kernel ${each.kernel.toFixed(0)} kB; the machine gave ${each.machine.toFixed(0)} kB)` : '';
  console.log(`${String(forwards).padStart(6)} forwards: ${pids.length} sshd processes, PSS ${mb(pssKb).toFixed(1)} MB${costs}; `
    + `a new forward's login p50 ${p(step, 50).toFixed(1)} ms, p95 ${p(step, 95).toFixed(1)} ms`);
  return step;
}

/**
 * The most forwards this machine can hold beyond those held now, and which limit says so: two sshd
 * processes and one socket here each, and memory at the rate measured so far.
 */
async function room(bytesPerForward: number): Promise<{ more: number; limit: string }> {
  const [processes, files, memory] = [await processRoom(), await fileRoom(), await memoryRoom()];
  const memoryMargin = Math.max(3 * 2 ** 30, 0.1 * memory.free);
  const rooms = [
    { more: Math.floor((processes.free - 500) / 2), limit: `${processes.limit}: two sshd processes per forward, 500 spare` },
    { more: files.free - 100, limit: `${files.limit}: a socket per forward, 100 spare` },
    {
      more: Math.floor((memory.free - memoryMargin) / bytesPerForward),
      limit: `${memory.limit}: ${(bytesPerForward / 2 ** 20).toFixed(2)} MiB per forward, ${(memoryMargin / 2 ** 30).toFixed(1)} GiB spare`,
    },
  ];
  return rooms.reduce((tightest, next) => (next.more < tightest.more ? next : tightest));
}

/** Least squares through the measured points: [intercept, slope]. */
function linearFit(points: [number, number][]): [number, number] {
  const n = points.length;
  const [mx, my] = [points.reduce((s, [x]) => s + x, 0) / n, points.reduce((s, [, y]) => s + y, 0) / n];
  const slope = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return [my - slope * mx, slope];
}

try {
  const raised = await raiseFileLimit(target + probeCount + 1000);
  if (raised) notes.push(raised);
  const ports = await freeForwardPorts(target + probeCount, firstPort);
  const hosts = ports.slice(0, target).map((port, i) => host(`u-${String(i).padStart(7, '0')}`, port));
  // Their user ids sort last, so their lines are the file's last: each probe's login reads it all.
  const probes = ports.slice(target).map((port, i) => host(`zz-probe-${i}`, port));
  box = await startTunnelBox();
  let inFile = 0;
  writer = new AuthorizedKeysWriter({
    file: box.authorizedKeysFile, group: 'tunnel',
    render: () => {
      const lines = [...hosts.slice(0, inFile), ...probes];
      return renderAuthorizedKeys({ keys: lines.map((h) => h.entry), leases: lines.map((h) => h.lease) });
    },
  });
  await writer.request();
  console.log(`box on 127.0.0.1:${box.port}; forwards on ports ${ports[0]}–${ports.at(-1)}; ${target} keys made; ${probeCount} new forwards per step\n`);
  await measure(0, probes);

  for (const planned of steps) {
    const last = measured.at(-1)!;
    const each = last.forwards > 0 && perForward(last);
    const bytesPerForward = each ? 1024 * (Math.max(each.machine, each.pss + each.kernel) + each.here) : guessedBytesPerForward;
    const { more, limit } = await room(bytesPerForward);
    const step = Math.min(planned, held.length + Math.floor(more / 100) * 100);
    if (step <= held.length) {
      notes.push(`stopped at ${held.length} forwards: no room for more, ${limit}`);
      break;
    }
    if (step < planned) notes.push(`${planned} forwards do not fit, ${limit}: measured ${step} instead`);
    inFile = step;
    await writer.request();
    let retries = 0;
    const from = held.length;
    const { seconds } = await timedConcurrently(step - from, concurrency, async (index) => {
      if (cleaning) return;
      const forward = await holdForward(options(hosts[from + index]!));
      if (cleaning) return forward.close();
      held.push(forward);
      retries += forward.retries;
    });
    if (cleaning) break;
    console.log(`${String(step).padStart(6)} forwards held: ${step - from} opened in ${seconds.toFixed(1)} s, ${retries} handshakes tried again`);
    await measure(step, probes);
    if (step < planned) break;
  }
  if (measured.length < 2) throw new Error(`no step was measured: ${notes.join('; ')}`);

  const empty = measured[0]!;
  const last = measured.at(-1)!;
  console.log(`\n${'forwards'.padStart(8)} ${'sshd procs'.padStart(10)} ${'PSS MB'.padStart(8)} ${'PSS/fwd kB'.padStart(10)} `
    + `${'kernel/fwd kB'.padStart(13)} ${'login p50 ms'.padStart(12)} ${'p95 ms'.padStart(7)}   (all measured)`);
  for (const step of measured) {
    const each = step.forwards > 0 && perForward(step);
    console.log(`${String(step.forwards).padStart(8)} ${String(step.processes).padStart(10)} ${mb(step.pssKb).toFixed(1).padStart(8)} `
      + `${(each ? each.pss.toFixed(0) : '-').padStart(10)} ${(each ? each.kernel.toFixed(0) : '-').padStart(13)} `
      + `${p(step, 50).toFixed(1).padStart(12)} ${p(step, 95).toFixed(1).padStart(7)}`);
  }

  const [pssIntercept, pssSlope] = linearFit(measured.map((step) => [step.forwards, step.pssKb]));
  const [, kernelSlope] = linearFit(measured.map((step) => [step.forwards, step.kernelKb]));
  const [loginIntercept, loginSlope] = linearFit(measured.map((step) => [step.forwards, p(step, 50)]));
  const [p95Intercept, p95Slope] = linearFit(measured.map((step) => [step.forwards, p(step, 95)]));
  const reached = last.forwards === target;
  const atTarget = reached
    ? { pssMb: mb(last.pssKb), kernelMb: mb(last.kernelKb - empty.kernelKb), p50: p(last, 50), p95: p(last, 95), how: 'measured' }
    : {
      pssMb: mb(pssIntercept + pssSlope * target), kernelMb: mb(kernelSlope * target), p50: loginIntercept + loginSlope * target, p95: p95Intercept + p95Slope * target,
      how: `EXTRAPOLATED, not measured: this machine had room for ${last.forwards}; linear fit over the ${measured.length} measured points, 0–${last.forwards} forwards`,
    };
  console.log(`\nfit over the measured points: sshd PSS ${mb(pssIntercept).toFixed(1)} MB + ${pssSlope.toFixed(0)} kB per forward, and the kernel's `
    + `${kernelSlope.toFixed(0)} kB per forward; a new forward's login p50 ${loginIntercept.toFixed(1)} ms + ${(loginSlope * 1000).toFixed(2)} ms per 1,000 forwards`);
  console.log(`at ${target} forwards (${atTarget.how}): ${2 * target + 1} sshd processes, PSS ${atTarget.pssMb.toFixed(0)} MB and the kernel's `
    + `${atTarget.kernelMb.toFixed(0)} MB; a new forward's login p50 ${atTarget.p50.toFixed(1)} ms, p95 ${atTarget.p95.toFixed(1)} ms `
    + `(empty box: ${p(empty, 50).toFixed(1)} / ${p(empty, 95).toFixed(1)} ms)`);

  // A box pays the kernel's share too, not just sshd's PSS.
  const kbPerForward = pssSlope + kernelSlope;
  const memoryForwards = kbPerForward > 0 ? Math.floor((memoryGb * MB * MB - empty.pssKb) / kbPerForward) : Infinity;
  const perBox = Math.min(portsPerBox, memoryForwards);
  const binds = memoryForwards < portsPerBox ? 'memory binds first' : `the port range binds first (${portsPerBox} ports, 20000–29999)`;
  const boxes = [10_000, 100_000, 1_000_000].map((sessions) => `${sessions.toLocaleString('en')}: ${Math.ceil(sessions / perBox)}`);
  console.log(`\nboxes needed for N concurrent sessions (a forward each), at ${memoryGb} GB per box for sshd and the kernel at ${kbPerForward.toFixed(0)} kB `
    + `per forward (${memoryForwards.toLocaleString('en')} forwards) and 10,000 ports: ${perBox} forwards per box, ${binds}. ${boxes.join(', ')}`);
  console.log(`a box holding ${perBox} forwards runs ${2 * perBox + 1} sshd processes: its kernel.pid_max and any pids.max must allow that`);
  for (const note of notes) console.log(`note: ${note}`);

  const how = reached ? '' : ' (extrapolated)';
  figure('forwards held at once (measured)', last.forwards, 'forwards');
  figure('sshd PSS per idle forward (fit)', pssSlope, 'kB');
  figure('kernel memory per idle forward (fit)', kernelSlope, 'kB');
  figure(`sshd PSS at ${target} forwards${how}`, atTarget.pssMb, 'MB');
  figure('new forward\'s login on the empty box, p50', p(empty, 50), 'ms');
  figure(`new forward's login at ${target} forwards${how}, p50`, atTarget.p50, 'ms');
  figure(`new forward's login at ${target} forwards${how}, p95`, atTarget.p95, 'ms');
  figure(`forwards one box holds (10,000 ports, or ${memoryGb} GB)`, perBox, 'forwards', '>= 10000');
  figure('boxes for 1,000,000 concurrent sessions', Math.ceil(1_000_000 / perBox), 'boxes');
} finally {
  const left = await cleanUp();
  console.log(`\nclosed ${held.length} forwards and the box (${left} of its sshd processes left); ran ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
