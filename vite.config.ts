// Vite config for the library build (`npm run build`; the workers are built apart, as single
// files, by scripts/build.mjs). WGSL kernels are imported as text with `?raw`; Vite inlines them.
import { defineConfig, type Plugin } from 'vite';

/** Where src/client/default-worker.ts points in the source tree, and in the published dist/. */
const ENGINE_WORKER_SOURCE = "'../../worker/engine.worker.ts'";
const ENGINE_WORKER_DIST = "'./worker/engine.worker.js'";
/** The path wrapped in a call, so no plugin takes it for a `new URL('…', import.meta.url)` literal. */
const HIDDEN = `String(${ENGINE_WORKER_DIST})`;
const HIDDEN_RE = /String\((['"])\.\/worker\/engine\.worker\.js\1\)/g;

/**
 * Keeps `new Worker(new URL('./worker/engine.worker.js', import.meta.url), { type: 'module' })`
 * in the published chunk, so the consumer's bundler (Vite, webpack 5, Parcel) sees a worker
 * with a relative literal path and bundles it. Vite would otherwise bundle the worker itself
 * into an absolute `/assets/…` URL that only exists in this build. Wrapping the path in
 * `String(…)` hides it from Vite's worker and asset plugins (they match a string literal right
 * after `new URL(`); renderChunk unwraps it again.
 */
function workerUrlsForBundlers(): Plugin {
  let rewritten = 0;
  return {
    name: 'tabllm-worker-urls',
    apply: 'build',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/client/default-worker.ts')) return null;
      if (!code.includes(ENGINE_WORKER_SOURCE)) this.error(`default-worker.ts no longer names ${ENGINE_WORKER_SOURCE}`);
      return { code: code.replace(ENGINE_WORKER_SOURCE, HIDDEN), map: null };
    },
    renderChunk(code, chunk) {
      if (!HIDDEN_RE.test(code)) return null;
      // The path is relative to this chunk: it must sit at dist/, beside dist/worker/.
      if (chunk.fileName.includes('/')) this.error(`the worker URL landed in ${chunk.fileName}, not at the top of dist/`);
      rewritten++;
      return { code: code.replace(HIDDEN_RE, ENGINE_WORKER_DIST), map: null };
    },
    generateBundle() {
      if (rewritten === 0) this.error('no chunk holds the engine worker URL (src/client/default-worker.ts)');
    },
  };
}

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    // Published readable, as most libraries are: the app's bundler minifies. (The minifier
    // would also fold source.ts's computed 'node:fs/promises' back into a literal, which
    // esbuild refuses in a browser bundle.)
    minify: false,
    lib: {
      entry: {
        index: 'src/index.ts',
        node: 'src/node.ts',
        'cli/main': 'src/cli/main.ts',
        webllm: 'src/compat/webllm/index.ts',
        flow: 'src/flow/index.ts',
      },
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^node:/, 'webgpu', 'comlink', 'idb-keyval', '@huggingface/jinja', 'yaml', 'pyodide'],
      // Shared chunks at dist/ (not dist/assets/), next to dist/worker/: the worker URL
      // './worker/engine.worker.js' is relative to the chunk that holds it.
      output: { chunkFileNames: '[name]-[hash].js' },
    },
  },
  plugins: [workerUrlsForBundlers()],
});
