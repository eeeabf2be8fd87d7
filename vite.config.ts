/**
 * Vite builds the browser app: the Lit UI (src/browser/ui/index.html → main.ts) and the tunnel worker
 * (an ES module worker, found through `new Worker(new URL(...), { type: 'module' })`) into
 * dist/ui/, which `wgweb relay` serves beside its WebSocket endpoint.
 *
 *   npm run build   → scripts/build.mjs → vite build (skipped when dist/ui is up to date)
 *   npm run dev     → vite dev server on 127.0.0.1:5173, /wg proxied (WebSocket) to a relay on 127.0.0.1:8080
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { browseScripts } from './src/browser/browse/vite-plugin.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm run dev` expects the relay (`npx wgweb relay --port 8080`); override with WGWEB_RELAY. */
const relayTarget = process.env.WGWEB_RELAY ?? 'http://127.0.0.1:8080';

/** The version the diagnostic report names (src/browser/ui/lib/app-version.ts). */
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;

export default defineConfig({
  root: `${root}src/browser/ui`,
  define: { __WGWEB_VERSION__: JSON.stringify(version) },
  publicDir: `${root}public`,
  // Relative asset URLs: the build works from any path the relay (or a static host) serves it at.
  base: './',
  clearScreen: false,
  // The browse view's Service Worker, bridge and frame agent (dist/ui/__wgweb/; docs/browse.md).
  plugins: [browseScripts(`${root}dist/ui`)],
  build: {
    outDir: `${root}dist/ui`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: true,
    // One small app: keep the main bundle in one file, no preload polyfill.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 200,
    // Rolldown's "slow plugin" report fires on a loaded machine and says nothing about the code;
    // `npm start` output stays the relay's own.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  worker: {
    format: 'es',
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: false,
    proxy: {
      '/wg': { target: relayTarget, ws: true, changeOrigin: false },
      // The browse view asks the relay where its browse origin is (docs/browse.md; the relay serves
      // that origin's scripts from its dist/ui, so run `npm run build` once).
      '/api/browse': { target: relayTarget, changeOrigin: false },
    },
  },
  preview: {
    host: '127.0.0.1',
    port: 4173,
    proxy: {
      '/wg': { target: relayTarget, ws: true },
    },
  },
});
