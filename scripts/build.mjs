#!/usr/bin/env node
// `npm run build`: the library bundle (Vite, ESM; WGSL inlined), the worker entry points
// as self-contained single files, and type declarations (tsc).
//
// Workers are built apart from the library so that each is one file with no imports at all
// (comlink, jinja and the dynamically imported WebGPU runner inlined): a consumer's bundler
// finds `new Worker(new URL('./worker/engine.worker.js', import.meta.url))` in the library
// and bundles that file as a worker, and someone without a bundler can copy the file and
// serve it (dist/worker/engine.worker.js, shared.worker.js, sw.js).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'vite';

/** Worker entry (source) → file name under dist/worker/. */
export const WORKER_ENTRIES = {
  'worker/engine.worker.ts': 'engine.worker.js',
  'worker/shared.worker.ts': 'shared.worker.js',
  'worker/sw.ts': 'sw.js',
  // Constrained decoding's grammar worker (src/grammar/worker-port.ts names it; Node runs it with worker_threads).
  'worker/grammar.worker.ts': 'grammar.worker.js',
  // tabllm/flow's Python nodes in a page (src/flow/python/worker-runtime.ts names it).
  'src/flow/python/pyodide.worker.ts': 'pyodide.worker.js',
};

/**
 * Inside a worker file the grammar worker is its sibling in dist/worker/. The source names it
 * from src/grammar/worker-port.ts; Vite would bundle it into an absolute `/assets/…` URL that
 * only exists in this build. So the path becomes './grammar.worker.js', hidden from Vite's worker
 * and asset plugins as `String(…)` and unwrapped again, so a consumer's bundler that bundles
 * engine.worker.js still sees `new Worker(new URL(<relative literal>, import.meta.url))`.
 */
const GRAMMAR_WORKER_SOURCE = "'../../worker/grammar.worker.ts'";
const siblingGrammarWorker = {
  name: 'tabllm-sibling-grammar-worker',
  enforce: 'pre',
  transform(code, id) {
    if (!id.endsWith('/src/grammar/worker-port.ts')) return null;
    if (code.split(GRAMMAR_WORKER_SOURCE).length !== 2) this.error(`worker-port.ts must name ${GRAMMAR_WORKER_SOURCE} exactly once`);
    return { code: code.replace(GRAMMAR_WORKER_SOURCE, "String('./grammar.worker.js')"), map: null };
  },
  renderChunk(code) {
    const out = code.replace(/String\((['"])\.\/grammar\.worker\.js\1\)/g, "'./grammar.worker.js'");
    return out === code ? null : { code: out, map: null };
  },
};

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync('dist', { recursive: true, force: true });
sh('npx', ['vite', 'build', '--logLevel', 'warn']);
for (const [entry, fileName] of Object.entries(WORKER_ENTRIES)) {
  await build({
    configFile: false,
    logLevel: 'warn',
    // Read by src/flow/python/pyodide.worker.ts: in these files Pyodide's code is bundled in, its data files are not.
    define: { __TABLLM_PYODIDE_BUNDLED__: 'true' },
    plugins: [siblingGrammarWorker],
    build: {
      outDir: 'dist/worker',
      emptyOutDir: false,
      sourcemap: true,
      target: 'es2022',
      minify: false,
      lib: { entry, formats: ['es'], fileName: () => fileName },
      // One file: the WebGPU runner (a dynamic import in the library) is inlined too.
      rollupOptions: { output: { codeSplitting: false } },
    },
  });
}
// Sites copy these files alone (sw.js to their root): an import of a library chunk would 404.
for (const fileName of Object.values(WORKER_ENTRIES)) {
  // A library inlined as text (XGrammar's source, evaluated by src/grammar/xgrammar-load.ts) is
  // one long string literal: what it mentions is data, not an import of this file.
  const code = readFileSync(`dist/worker/${fileName}`, 'utf8').replace(/"(?:[^"\\\n]|\\.){100000,}"/g, '""');
  // Static imports, and dynamic imports of a literal path (a computed `node:` specifier for
  // Node-only code never runs in a browser).
  if (/^\s*(import|export)\b[^\n]*\bfrom\s*["']|\bimport\s*\(\s*["'`]/m.test(code)) {
    console.error(`dist/worker/${fileName} imports another file; each worker must build alone`);
    process.exit(1);
  }
}
sh('npx', ['tsc', '-p', 'tsconfig.build.json']);
console.log('built dist/');
