/**
 * assets: the monitor page's files, served from the package itself (no CDN, no web font): the page, its modules
 * and stylesheet (shipped next to the bundle in `monitor/`), and dagre's browser build, resolved from the
 * installed `@dagrejs/dagre` dependency.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where this module is: `src/server/` from source, `dist/` from the built package (both hold `monitor/`). */
function here(): string {
  // `import.meta.url` is undefined in the CommonJS build, where `__dirname` is set.
  return import.meta.url ? dirname(fileURLToPath(import.meta.url)) : __dirname;
}

/** Every file of the page by its URL path, read once. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const dir = join(here(), 'monitor');
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name === 'index.html' ? '/' : `/assets/${name}`, { body, type });
  }
  const require = createRequire(join(here(), 'package.json'));
  // The package's CommonJS entry sits beside its self-contained ES module build.
  const dagre = join(dirname(require.resolve('@dagrejs/dagre')), 'dagre.esm.js');
  assets.set('/vendor/dagre.js', { body: readFileSync(dagre), type: TYPES['.js'] as string });
  return assets;
}
