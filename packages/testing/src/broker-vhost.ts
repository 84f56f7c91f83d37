/**
 * A RabbitMQ virtual host per test run, made and removed through the
 * management API. Test queues are durable quorum queues; left in the shared
 * vhost they pile up run after run until the broker stalls, so every run gets
 * its own vhost and deleting it takes all of them at once.
 */
const prefix = 'tmuxme-test-';

export interface BrokerVhost {
  amqpUrl: string;
  remove(): Promise<void>;
}

export async function createRunVhost(amqpUrl: string, managementUrl = 'http://127.0.0.1:15672'): Promise<BrokerVhost> {
  const broker = new URL(amqpUrl);
  const api = managementApi(managementUrl, decodeURIComponent(broker.username), decodeURIComponent(broker.password));
  await removeVhostsOfDeadRuns(api);
  const name = `${prefix}${process.pid}-${Date.now().toString(36)}`;
  await api('PUT', `/api/vhosts/${encodeURIComponent(name)}`, { default_queue_type: 'quorum' });
  await api('PUT', `/api/permissions/${encodeURIComponent(name)}/${encodeURIComponent(decodeURIComponent(broker.username))}`,
    { configure: '.*', write: '.*', read: '.*' });
  broker.pathname = `/${encodeURIComponent(name)}`;
  return {
    amqpUrl: broker.toString(),
    remove: () => api('DELETE', `/api/vhosts/${encodeURIComponent(name)}`).then(() => undefined),
  };
}

type ManagementApi = (method: string, path: string, body?: unknown) => Promise<unknown>;

function managementApi(baseUrl: string, username: string, password: string): ManagementApi {
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(`the RabbitMQ management API does not answer at ${baseUrl} (${(error as Error).message}); `
        + 'enable it with `rabbitmq-plugins enable rabbitmq_management`');
    }
    if (!response.ok && response.status !== 404) {
      throw new Error(`RabbitMQ management API: ${method} ${path} answered ${response.status} ${await response.text()}`);
    }
    return response.status === 200 ? response.json() : undefined;
  };
}

/** A run killed before its teardown leaves its vhost; its pid tells us it is gone. */
async function removeVhostsOfDeadRuns(api: ManagementApi): Promise<void> {
  const vhosts = (await api('GET', '/api/vhosts')) as { name: string }[];
  for (const { name } of vhosts) {
    const pid = Number(/^tmuxme-test-(\d+)-/.exec(name)?.[1]);
    if (pid && !processIsAlive(pid)) await api('DELETE', `/api/vhosts/${encodeURIComponent(name)}`);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
