// Vite config of the demo page (`npm run demo`): rooted at demo/, on 127.0.0.1 (a secure
// context, so WebGPU, OPFS and service workers work), allowed to read the project's src/
// and worker/ and the shared fixtures (served read-only under /models/ by the plugin below).
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// ---------------------------------------------------------------------------------------
// The model-files plugin: serves local .gguf files under /models/ with HTTP Range support,
// so the default model (stories260K) loads offline through the same ranged, cached
// download path (`loadModel`) that a Hugging Face URL takes. Files come from
// $TABLLM_MODEL_DIR (any *.gguf there) and, for stories260K, the shared test fixtures when
// present. Nothing is copied into the project.

export const MODELS_PREFIX = '/models/';
export const STORIES_PUBLIC_URL = 'https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf';

/** File name (as served under /models/) → absolute path on disk. */
export function findLocalModels(sharedDir: string, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const found = new Map<string, string>();
  const dir = env.TABLLM_MODEL_DIR;
  if (dir && existsSync(dir) && statSync(dir).isDirectory()) {
    for (const name of readdirSync(dir)) {
      if (name.toLowerCase().endsWith('.gguf') && statSync(resolve(dir, name)).isFile()) found.set(name, resolve(dir, name));
    }
  }
  const fixture = resolve(sharedDir, 'fixtures/stories260K/stories260K.gguf');
  if (!found.has('stories260K.gguf') && existsSync(fixture)) found.set('stories260K.gguf', fixture);
  return found;
}

/** The URL the demo loads by default: the local copy when there is one, else the public one. */
export function defaultModelUrl(local: Map<string, string>): string {
  return local.has('stories260K.gguf') ? `${MODELS_PREFIX}stories260K.gguf` : STORIES_PUBLIC_URL;
}

/** `bytes=a-b` / `bytes=a-` / `bytes=-n` → an inclusive [start, end], or null if unsatisfiable. */
export function parseRange(header: string, size: number): { start: number; end: number } | null | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return null;
  return { start, end };
}

function serveFile(path: string, req: IncomingMessage, res: ServerResponse): void {
  const size = statSync(path).size;
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Cache-Control', 'no-store');
  const rangeHeader = req.headers.range;
  let start = 0;
  let end = size - 1;
  if (rangeHeader) {
    const range = parseRange(rangeHeader, size);
    if (!range) {
      res.statusCode = 416;
      res.setHeader('Content-Range', `bytes */${size}`);
      res.end();
      return;
    }
    ({ start, end } = range);
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  } else res.statusCode = 200;
  res.setHeader('Content-Length', String(end - start + 1));
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(path, { start, end }).pipe(res);
}

export function modelFiles(sharedDir: string): Plugin {
  const local = findLocalModels(sharedDir);
  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = req.url ?? '';
    if (!url.startsWith(MODELS_PREFIX)) return next();
    const name = decodeURIComponent(url.slice(MODELS_PREFIX.length).split('?')[0]!);
    const path = local.get(basename(name));
    if (!path || basename(name) !== name) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`no local model '${name}' (set TABLLM_MODEL_DIR)`);
      return;
    }
    serveFile(path, req, res);
  };
  return {
    name: 'tabllm-demo-model-files',
    config: () => ({ define: { __TABLLM_DEFAULT_MODEL__: JSON.stringify(defaultModelUrl(local)) } }),
    configureServer(server) {
      server.middlewares.use(middleware);
      server.httpServer?.once('listening', () => {
        for (const [name, path] of local) server.config.logger.info(`  tabllm demo: /models/${name} → ${path}`);
      });
    },
    // `vite preview` of a demo build serves the same files.
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

// ---------------------------------------------------------------------------------------

export const DEMO_ROOT = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = resolve(DEMO_ROOT, '..');
export const SHARED_DIR = resolve(PROJECT_ROOT, '../shared');

export default defineConfig({
  root: DEMO_ROOT,
  plugins: [modelFiles(SHARED_DIR)],
  server: {
    host: '127.0.0.1',
    port: 5173,
    fs: { allow: [PROJECT_ROOT, SHARED_DIR] },
  },
  preview: { host: '127.0.0.1' },
  // Pre-bundled at start-up, so the first page load does not trigger a re-optimize + reload.
  // Pyodide stays unbundled: it finds its .wasm, stdlib zip and lock file beside its own
  // module (node_modules/pyodide/), which a pre-bundled copy in .vite/deps would lose.
  optimizeDeps: { include: ['openai', '@huggingface/jinja', 'comlink', 'idb-keyval'], exclude: ['pyodide'] },
  worker: { format: 'es' },
  build: { outDir: resolve(PROJECT_ROOT, 'dist/demo'), emptyOutDir: true, target: 'es2022' },
});
