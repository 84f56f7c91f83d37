import { defineConfig } from 'vite';

// `npm run dev` serves the pages with hot reload and passes the API to a running gateway (`npm run up`).
const gateway = process.env.TMUXME_GATEWAY ?? 'http://127.0.0.1:8080';

// No React plugin: Vite's own transform handles JSX, and the pages need no fast refresh.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    proxy: { '/api': gateway, '/web/v1': gateway, '^/[^/]+\\.keys$': gateway },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The gateway's CSP is `default-src 'self'`: no data: URIs, and no polyfill needed for modern browsers.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
