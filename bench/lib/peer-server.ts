// A Vite dev server for the peer benchmark and the Chromium benches (bench/lib/chromium-bench.ts):
// rooted at the project (pages import project TS and node_modules), cross-origin isolated
// (COOP/COEP, so wllama may use wasm threads), and serving the GGUF files from a temp dir at
// /__peer-models/<name> with HTTP Range (tabllm streams tensors by byte range; wllama fetches
// the whole file).
import { createReadStream, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { PROJECT_ROOT } from '../../test/helpers/browser';

export const MODEL_ROUTE = '/__peer-models/';

function serveFile(dir: string, req: IncomingMessage, res: ServerResponse): void {
  const name = basename(decodeURIComponent((req.url ?? '').split('?')[0]!));
  const path = join(dir, name);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    res.statusCode = 404;
    res.end(`no model ${name}`);
    return;
  }
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || end < start) {
      res.statusCode = 416;
      res.setHeader('Content-Range', `bytes */${size}`);
      res.end();
      return;
    }
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    res.setHeader('Content-Length', String(end - start + 1));
    if (req.method === 'HEAD') return void res.end();
    createReadStream(path, { start, end }).pipe(res);
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Length', String(size));
  if (req.method === 'HEAD') return void res.end();
  createReadStream(path).pipe(res);
}

function modelFiles(dir: string): Plugin {
  return {
    name: 'peer-model-files',
    configureServer(server) {
      server.middlewares.use(MODEL_ROUTE, (req, res) => serveFile(dir, req, res));
    },
  };
}

/** Starts the server; `modelDir` holds the generated .gguf files. */
export async function startPeerServer(modelDir: string): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: PROJECT_ROOT,
    configFile: false,
    logLevel: 'error',
    plugins: [modelFiles(modelDir)],
    server: {
      host: '127.0.0.1',
      port: 0,
      strictPort: false,
      fs: { allow: [PROJECT_ROOT] },
      hmr: false,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('peer bench server has no address');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}
