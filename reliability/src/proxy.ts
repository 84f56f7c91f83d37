import { TcpProxy } from '@tmuxme/testing';

const defaultPorts: Record<string, number> = { 'amqp:': 5672, 'mongodb:': 27017 };

/** A TcpProxy in front of the server a URL names, and the same URL through it: what a test cuts for an outage. */
export async function proxyFor(serverUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(serverUrl);
  const proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || defaultPorts[target.protocol]) }).start();
  const through = new URL(serverUrl);
  through.host = proxy.url;
  return { proxy, url: through.toString() };
}
