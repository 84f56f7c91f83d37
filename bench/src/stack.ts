import { startTestServers, uniqueName } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack, type StackOptions } from '@tmuxme/e2e';
import { timedConcurrently } from './load.js';

/**
 * e2e's stack (accounts, keys, sessions, the gateway) on servers of the run's own, as the tests get
 * them: FerretDB and a RabbitMQ vhost, or MONGODB_URI and AMQP_URL when both are set. Closing it
 * stops them too.
 */
export async function startBenchStack(options: Omit<StackOptions, 'mongoUrl' | 'amqpUrl'> = {}): Promise<Stack> {
  const servers = await startTestServers();
  const stack = await startStack({ ...options, mongoUrl: servers.mongoUrl, amqpUrl: servers.amqpUrl })
    .catch(async (error: unknown) => { await servers.stop(); throw error; });
  return {
    ...stack,
    async close() {
      await stack.close();
      await servers.stop();
    },
  };
}

/** A database no other run uses, on the server at `serverUrl`. */
export function uniqueDatabaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${uniqueName(name).replace(/-/g, '_')}`;
  return url.toString();
}

export interface BenchUser {
  username: string;
  accessToken: string;
  /** The gateway's API, as this user. */
  api: ApiClient;
}

/** `count` accounts, `<prefix>0` on, 25 signing up at a time; each access token comes from the API token, as the CLI's does. */
export async function signUpMany(api: ApiClient, prefix: string, count: number): Promise<BenchUser[]> {
  const users = new Array<BenchUser>(count);
  const { seconds } = await timedConcurrently(count, 25, async (index) => {
    const username = `${prefix}${index}`;
    const { apiToken } = await api.signup(username);
    const exchanged = await api.request('POST', '/api/v1/auth/token', undefined, { authorization: `Token ${apiToken}` });
    if (exchanged.status !== 200) throw new Error(`token for ${username}: ${exchanged.status} ${exchanged.text}`);
    const accessToken = exchanged.json.accessToken as string;
    users[index] = { username, accessToken, api: api.withToken(accessToken) };
  });
  console.log(`${count} users signed up in ${seconds.toFixed(1)} s`);
  return users;
}
