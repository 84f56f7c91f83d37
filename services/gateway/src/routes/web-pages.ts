import { existsSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import send from '@fastify/send';
import { HttpError } from '@tmuxme/service-kit';

export interface WebPagesOptions {
  /** The built pages (web/dist); absent or unbuilt, pages answer 503 and the API works as ever. */
  webRoot?: string;
}

// The API's and the internal paths keep their JSON 404s: a typo in a client must not get a page.
const neverPages = /^\/(api|web|internal)(\/|$)/;
// Vite names every asset by its content's hash, so a URL never changes meaning.
const immutable = 'public, max-age=31536000, immutable';

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tmux.me</title></head>
<body><h1>The web pages are not built</h1>
<p>Build them with <code>npm run build -w @tmuxme/web</code> and restart the gateway. The API works meanwhile.</p></body></html>
`;

const acceptsHtml = (request: FastifyRequest) => request.headers.accept?.includes('text/html') ?? false;

/** The file under `root` that a URL path names, or undefined: malformed, outside the root, a folder, missing. */
async function fileUnder(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const full = resolve(root, `.${decoded}`);
  if (!full.startsWith(root + sep)) return undefined;
  const found = await stat(full).catch(() => undefined);
  return found?.isFile() ? decoded : undefined;
}

/**
 * The account pages at `/`: built files as they are, and index.html for any
 * other page path a browser navigates to, so the app's own routes (`/keys`)
 * survive a reload. The folder is checked once at start-up.
 */
export const webPagesRoutes: FastifyPluginAsync<WebPagesOptions> = async (app, { webRoot }) => {
  const root = webRoot && existsSync(join(webRoot, 'index.html')) ? resolve(webRoot) : undefined;
  if (!root) {
    app.log.warn({ webRoot }, 'the web pages are not built; / answers 503');
    app.get('/*', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if (neverPages.test(path) || (path !== '/' && !acceptsHtml(request))) return reply.callNotFound();
      return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(notBuiltPage);
    });
    return;
  }

  const assets = join(root, 'assets') + sep;
  // @fastify/send is @fastify/static's engine (ETag, Last-Modified, 304s, ranges, HEAD); the plugin
  // itself cannot be loaded by Jest on Node 20, as it requires an ESM-only package.
  async function sendFile(request: FastifyRequest, reply: FastifyReply, file: string) {
    const result = await send(request.raw, encodeURI(file), { root, dotfiles: 'ignore', index: false, cacheControl: false });
    if (result.type === 'directory' || result.statusCode === 404) return reply.callNotFound();
    if (result.type === 'error') {
      if (result.statusCode >= 500) throw result.metadata.error;
      // A bad Range or precondition: the usual JSON error, named after the status.
      const name = STATUS_CODES[result.statusCode] ?? 'Bad Request';
      throw new HttpError(result.statusCode, name.toUpperCase().replace(/\W+/g, '_'), `${name}: ${file}`);
    }
    // index.html names the current hashes, so it is checked every time.
    const cacheControl = result.metadata.path.startsWith(assets) ? immutable : 'no-cache';
    return reply.status(result.statusCode).headers(result.headers).header('cache-control', cacheControl).send(result.stream);
  }

  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (neverPages.test(path)) return reply.callNotFound();
    const file = path === '/' ? '/index.html' : await fileUnder(root, path);
    if (file) return sendFile(request, reply, file);
    if (acceptsHtml(request)) return sendFile(request, reply, '/index.html');
    return reply.callNotFound();
  });
};
