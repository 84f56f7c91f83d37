import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** The last line of every snapshot; a reader that does not see it knows the stream was cut short. */
export interface SnapshotEnd {
  end: true;
  count: number;
}

/**
 * Sends a whole snapshot as one stream of JSON lines. A database that answers
 * every non-`_id` query with a full scan (FerretDB) pays one scan this way,
 * where paging would pay one scan per page.
 */
export function sendNdjsonSnapshot<T>(reply: FastifyReply, items: AsyncIterable<T>): void {
  async function* lines() {
    let count = 0;
    let chunk = '';
    for await (const item of items) {
      count += 1;
      chunk += `${JSON.stringify(item)}\n`;
      if (chunk.length > 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    yield `${chunk}${JSON.stringify({ end: true, count } satisfies SnapshotEnd)}\n`;
  }
  void reply.type('application/x-ndjson').send(Readable.from(lines()));
}
