/**
 * Vite plugin: builds the browse origin's three scripts next to the app, as self-contained
 * classic scripts with fixed names (a Service Worker's URL must not change between builds, and the
 * relay's browse listener serves exactly these files):
 *
 *   src/browser/browse/browse-sw.ts   → dist/ui/__wgweb/browse-sw.js     (the Service Worker)
 *   src/browser/browse/bridge.ts      → dist/ui/__wgweb/bridge.js        (the bridge page's script)
 *   src/browser/browse/frame-agent.ts → dist/ui/__wgweb/frame-agent.js   (injected into framed pages)
 *
 * Each is a separate build so none imports a shared chunk. Runs after the app's build (closeBundle).
 */
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const ENTRIES = ['browse-sw', 'bridge', 'frame-agent'] as const;

/** See the module comment. `outDir` is the app's output directory (dist/ui). */
export function browseScripts(outDir: string): Plugin {
  let building = false;
  return {
    name: 'wgweb-browse-scripts',
    apply: 'build',
    async closeBundle() {
      if (building) return;
      building = true;
      try {
        const { build } = await import('vite');
        for (const name of ENTRIES) {
          await build({
            configFile: false,
            logLevel: 'warn',
            publicDir: false,
            build: {
              outDir: `${outDir}/__wgweb`,
              emptyOutDir: false,
              target: 'es2022',
              sourcemap: true,
              minify: true,
              copyPublicDir: false,
              reportCompressedSize: false,
              lib: {
                entry: fileURLToPath(new URL(`./${name}.ts`, import.meta.url)),
                formats: ['iife'],
                name: `wgweb_${name.replace(/-/g, '_')}`,
                fileName: () => `${name}.js`,
              },
            },
          });
        }
      } finally {
        building = false;
      }
    },
  };
}
