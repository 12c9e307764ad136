// Vite config for the library build (`npm run build`; the workers are built apart, as single
// files, by scripts/build.mjs). WGSL kernels are imported as text with `?raw`; Vite inlines them.
import { defineConfig, type Plugin } from 'vite';

/**
 * Each `new Worker(new URL(<source path>, import.meta.url))` in the library: the file that
 * holds it, the path it names in the source tree, and the self-contained file in dist/worker/
 * (scripts/build.mjs builds those) it must name in the published chunk.
 */
const WORKER_URLS = [
  { file: '/src/client/default-worker.ts', source: "'../../worker/engine.worker.ts'", dist: './worker/engine.worker.js' },
  { file: '/src/flow/python/worker-runtime.ts', source: "'./pyodide.worker.ts'", dist: './worker/pyodide.worker.js' },
  { file: '/src/grammar/worker-port.ts', source: "'../../worker/grammar.worker.ts'", dist: './worker/grammar.worker.js' },
];
/** The path wrapped in a call, so no plugin takes it for a `new URL('…', import.meta.url)` literal. */
const hidden = (dist: string) => `String('${dist}')`;
const hiddenRe = (dist: string) => new RegExp(`String\\((['"])${dist.replace(/[./]/g, (c) => `\\${c}`)}\\1\\)`, 'g');

/**
 * Keeps `new Worker(new URL('./worker/<name>.js', import.meta.url), { type: 'module' })`
 * in the published chunk, so the consumer's bundler (Vite, webpack 5, Parcel) sees a worker
 * with a relative literal path and bundles it. Vite would otherwise bundle the worker itself
 * into an absolute `/assets/…` URL that only exists in this build. Wrapping the path in
 * `String(…)` hides it from Vite's worker and asset plugins (they match a string literal right
 * after `new URL(`); renderChunk unwraps it again.
 */
function workerUrlsForBundlers(): Plugin {
  const rewritten = new Set<string>();
  return {
    name: 'tabllm-worker-urls',
    apply: 'build',
    enforce: 'pre',
    transform(code, id) {
      const w = WORKER_URLS.find((u) => id.endsWith(u.file));
      if (!w) return null;
      // Exactly once: a second mention (a comment) would take the replacement instead.
      if (code.split(w.source).length !== 2) this.error(`${w.file} must name ${w.source} exactly once`);
      return { code: code.replace(w.source, hidden(w.dist)), map: null };
    },
    renderChunk(code, chunk) {
      let out = code;
      for (const w of WORKER_URLS) {
        const re = hiddenRe(w.dist);
        if (!re.test(out)) continue;
        // The path is relative to this chunk: it must sit at dist/, beside dist/worker/.
        if (chunk.fileName.includes('/')) this.error(`the worker URL ${w.dist} landed in ${chunk.fileName}, not at the top of dist/`);
        rewritten.add(w.file);
        out = out.replace(hiddenRe(w.dist), `'${w.dist}'`);
      }
      return out === code ? null : { code: out, map: null };
    },
    generateBundle() {
      for (const w of WORKER_URLS) if (!rewritten.has(w.file)) this.error(`no chunk holds the worker URL of ${w.file}`);
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
