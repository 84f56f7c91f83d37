import { existsSync } from 'node:fs';
import { connect, type ChannelModel } from 'amqplib';
import { createRunVhost } from './broker-vhost.js';
import { startFerretDB, type RunningServer } from './ferretdb.js';

export interface TestServers {
  mongoUrl: string;
  amqpUrl: string;
  /** What started them, so a failing run says what it ran against. */
  source: 'environment' | 'testcontainers' | 'local';
  stop(): Promise<void>;
}

const localAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';

function dockerAnswers(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

/**
 * Picks the servers the tests run against, in this order: URLs from the
 * environment; else a real MongoDB and RabbitMQ from testcontainers where a
 * Docker engine answers; else our FerretDB build and the local RabbitMQ.
 */
export async function startTestServers(): Promise<TestServers> {
  if (process.env.MONGODB_URI && process.env.AMQP_URL) {
    return { mongoUrl: process.env.MONGODB_URI, amqpUrl: process.env.AMQP_URL, source: 'environment', stop: async () => {} };
  }
  if (!process.env.MONGODB_URI && dockerAnswers()) {
    const containers = await startContainers().catch((error: Error) => {
      console.warn(`Docker did not start test containers (${error.message}); using the local servers`);
      return undefined;
    });
    if (containers) return containers;
  }
  // The broker is checked first so that a missing one leaves no FerretDB behind.
  const vhost = process.env.AMQP_URL ? undefined : await assertBrokerAnswers(localAmqpUrl).then(() => createRunVhost(localAmqpUrl));
  try {
    const ferret: RunningServer | undefined = process.env.MONGODB_URI ? undefined : await startFerretDB();
    return {
      mongoUrl: process.env.MONGODB_URI ?? ferret!.url,
      amqpUrl: process.env.AMQP_URL ?? vhost!.amqpUrl,
      source: 'local',
      stop: async () => { await Promise.all([ferret?.stop(), vhost?.remove()]); },
    };
  } catch (error) {
    await vhost?.remove();
    throw error;
  }
}

async function assertBrokerAnswers(url: string): Promise<void> {
  let connection: ChannelModel;
  try {
    connection = await connect(url);
  } catch (error) {
    throw new Error(`RabbitMQ does not answer at ${url.replace(/\/\/.*@/, '//')} (${(error as Error).message}); start it with \`rabbitmq-server -detached\``);
  }
  await connection.close();
}

async function startContainers(): Promise<TestServers> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const mongo = await new GenericContainer('mongo:8').withCommand(['--replSet', 'rs0', '--bind_ip_all']).withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/)).start();
  await mongo.exec(['mongosh', '--quiet', '--eval', 'rs.initiate({_id:"rs0",members:[{_id:0,host:"127.0.0.1:27017"}]})']);
  const rabbit = await new GenericContainer('rabbitmq:3.13').withExposedPorts(5672)
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/)).start();
  return {
    mongoUrl: `mongodb://${mongo.getHost()}:${mongo.getMappedPort(27017)}/?directConnection=true`,
    amqpUrl: `amqp://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(5672)}`,
    source: 'testcontainers',
    async stop() {
      await Promise.all([mongo.stop(), rabbit.stop()]);
    },
  };
}
