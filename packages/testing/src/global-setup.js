// Jest loads globalSetup outside its module system, so this file is plain
// JavaScript and reaches the TypeScript harness through tsx.
import { tsImport } from 'tsx/esm/api';

/** One database server and broker for the whole test run of a workspace. */
export default async function globalSetup() {
  const { startTestServers } = await tsImport('./servers.ts', import.meta.url);
  const servers = await startTestServers();
  globalThis.__tmuxmeServers = servers;
  process.env.TEST_MONGODB_URL = servers.mongoUrl;
  process.env.TEST_AMQP_URL = servers.amqpUrl;
}
