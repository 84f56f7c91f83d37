// Jest settings for a workspace whose tests need the database and the broker.
import { fileURLToPath } from 'node:url';
import base from '../../jest.preset.js';

export default {
  ...base,
  globalSetup: fileURLToPath(new URL('./src/global-setup.js', import.meta.url)),
  globalTeardown: fileURLToPath(new URL('./src/global-teardown.js', import.meta.url)),
};
