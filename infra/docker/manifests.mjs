/**
 * Copies the lockfile and every workspace's package.json to OUT, keeping their paths: what
 * `npm ci` needs, and nothing that changes with the sources, so an image's install layer stays
 * cached until a dependency changes.
 *
 *   node infra/docker/manifests.mjs OUT [--production]
 *
 * --production leaves out every devDependency, in the manifests and in the lockfile alike (so
 * `npm ci` still finds them in step). npm cannot do this by itself: `npm ci --omit=dev -w X`
 * follows X's dev edges to the test harness (a devDependency of X, but a dependency of e2e, so
 * never marked dev in the lockfile) and installs it with all it pulls in.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [out, flag] = process.argv.slice(2);
if (!out || (flag !== undefined && flag !== '--production')) {
  console.error('usage: node infra/docker/manifests.mjs OUT [--production]');
  process.exit(2);
}
const production = flag === '--production';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, value) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};
const withoutDev = ({ devDependencies: _dev, ...rest }) => rest;

const lock = readJson('package-lock.json');
// The lockfile lists the root ('') and every workspace under its path; installed packages live under node_modules/.
const workspaces = Object.keys(lock.packages).filter((path) => !path.includes('node_modules/') && path !== 'node_modules');
for (const path of workspaces) {
  const manifest = readJson(join(path, 'package.json'));
  writeJson(join(out, path, 'package.json'), production ? withoutDev(manifest) : manifest);
  if (production) lock.packages[path] = withoutDev(lock.packages[path]);
}
writeJson(join(out, 'package-lock.json'), lock);
