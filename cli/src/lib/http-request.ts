import { Agent as HttpAgent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What the API client reads of an answer. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  contentType: string;
  text: string;
}

export interface HttpRequest {
  method: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  timeoutMs: number;
}

/**
 * One keep-alive pool per scheme for the whole process, so every call after the first to a server reuses
 * an open connection (a host's steps, then a heartbeat every few seconds). Idle sockets do not keep the
 * process alive. node:http rather than fetch: fetch loads undici on its first call, about 20 ms before
 * the first byte leaves, on the path of every command.
 */
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

/**
 * Sends one request and reads the whole answer. Rejects as fetch does: with an error whose `cause`
 * says why (`code` ECONNREFUSED, ENOTFOUND…; `name` TimeoutError after `timeoutMs`).
 */
export function httpRequestText(url: URL, { method, headers, body, timeoutMs }: HttpRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new Error(`unsupported scheme ${url.protocol}`, { cause: { message: `${url.protocol} is neither http: nor https:` } }));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const signal = AbortSignal.timeout(timeoutMs);
    const fail = (error: Error) => reject(new Error(error.message, { cause: signal.aborted ? signal.reason : error }));
    const request = send(url, { method, headers, agent: agents[url.protocol], signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => resolve({
        status: response.statusCode ?? 0,
        statusText: response.statusMessage ?? '',
        contentType: String(response.headers['content-type'] ?? ''),
        text: Buffer.concat(chunks).toString('utf8'),
      }));
    });
    request.on('error', fail);
    request.end(body);
  });
}
