#!/usr/bin/env node
// Packs the GPU benchmark, the step profile and the GPU test tier for a lent GPU machine that has no Node
// packages (and maybe no Node): one esbuild bundle per entry into .gpucarry/ (ignored by
// git), with vitest's API served by scripts/device/vitest-shim.mjs, WGSL inlined, and
// `import.meta.url` / `__dirname` of project files re-rooted at the working directory, so
// the bundles run from the repository root there as they would here. Also copies the
// `webgpu` package's Linux x64 binary, the fixtures the tests read, and, with --node, this
// machine's `node` (xz).
//   node scripts/device/pack.mjs [--node]
// scripts/device/run.sh is the command that runs them there.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const OUT = join(ROOT, '.gpucarry');
// Test files left out: they need what the device machine lacks (tsx child processes for the
// CLI and the full-size model generator; node-llama-cpp), or, constrained.test.ts, load
// xgrammar's source as text in a way this bundling does not reproduce (no GPU code of its
// own: sample-mask.test.ts covers the masked sampling kernel).
const SKIP = new Set(['cli-run.test.ts', 'cli-flow.test.ts', 'embed-llama-cpp.test.ts', 'llama-cpp-agreement.test.ts', 'full-size.test.ts', 'constrained.test.ts']);

const listTests = (dir) => readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? listTests(join(dir, e.name)) : e.name.endsWith('.test.ts') && !SKIP.has(e.name) ? [join(dir, e.name)] : []);

const raw = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, async (a) => {
      const r = await b.resolve(a.path.slice(0, -4), { kind: a.kind, resolveDir: a.resolveDir });
      return { path: r.path, namespace: 'raw' };
    });
    b.onLoad({ filter: /.*/, namespace: 'raw' }, (a) => ({ contents: readFileSync(a.path, 'utf8'), loader: 'text' }));
  },
};
// Project sources: paths taken from the module's own location point into the repository.
const rerooted = {
  name: 'rerooted',
  setup(b) {
    b.onLoad({ filter: /\.(ts|mts)$/, namespace: 'file' }, (a) => {
      if (a.path.includes('/node_modules/')) return undefined;
      const rel = relative(ROOT, a.path);
      const text = readFileSync(a.path, 'utf8')
        .replaceAll('import.meta.url', `__tabllmUrl(${JSON.stringify(rel)})`)
        .replaceAll(/\b__dirname\b/g, `__tabllmPath(${JSON.stringify(dirname(rel))})`)
        .replaceAll(/\b__filename\b/g, `__tabllmPath(${JSON.stringify(rel)})`);
      return { contents: text, loader: 'ts' };
    });
  },
};
const entries = {
  name: 'entries',
  setup(b) {
    b.onResolve({ filter: /^entry:/ }, (a) => ({ path: a.path.slice(6), namespace: 'entry' }));
    b.onLoad({ filter: /.*/, namespace: 'entry' }, (a) => ({
      resolveDir: ROOT,
      loader: 'js',
      contents: `import { runRegistered } from 'vitest';\nimport ${JSON.stringify("./" + a.path)};\nconst c = await runRegistered(${JSON.stringify(a.path)});\nprocess.exit(c.failed > 0 ? 1 : 0);\n`,
    }));
  },
};
const banner = [
  "import { createRequire as __tabllmRequire } from 'node:module';",
  "import { pathToFileURL as __tabllmToUrl } from 'node:url';",
  "import { join as __tabllmJoin } from 'node:path';",
  'const require = __tabllmRequire(import.meta.url);',
  'const __tabllmPath = (rel) => __tabllmJoin(process.env.TABLLM_ROOT ?? process.cwd(), rel);',
  'const __tabllmUrl = (rel) => __tabllmToUrl(__tabllmPath(rel)).href;',
].join('\n');
const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', banner: { js: banner },
  external: ['webgpu', 'node-llama-cpp', 'playwright-core', 'vite', 'tsx'], plugins: [raw, rerooted, entries],
  alias: { vitest: join(ROOT, 'scripts/device/vitest-shim.mjs') },
};

rmSync(OUT, { recursive: true, force: true });
await build({ ...common, entryPoints: { gpu: join(ROOT, 'bench/gpu.ts'), 'step-profile': join(ROOT, 'bench/step-profile.ts'), 'gen-bench-models': join(ROOT, 'scripts/gen-bench-models.ts'), probe: join(ROOT, 'scripts/device/probe.ts') }, outdir: OUT, outExtension: { '.js': '.mjs' } });
const tests = [...listTests('test/gpu')];
await build({
  ...common, splitting: true, outdir: join(OUT, 'tests'), chunkNames: 'chunks/[name]-[hash]', outExtension: { '.js': '.mjs' },
  entryPoints: Object.fromEntries(tests.map((t) => [t.replace(/^test\/gpu\//, '').replaceAll('/', '-').replace(/\.test\.ts$/, ''), `entry:${t}`])),
});
const webgpu = join(ROOT, 'node_modules/webgpu');
mkdirSync(join(OUT, 'node_modules/webgpu/dist/linux-x64'), { recursive: true });
for (const f of ['index.js', 'package.json', 'dist/linux-x64/dawn.node']) copyFileSync(join(webgpu, f), join(OUT, 'node_modules/webgpu', f));
// The fixtures the packed tests read (../shared beside the repository; run.sh links it there).
for (const f of ['stories260K', 'chat-templates', 'llama-cpp-vocab/ggml-vocab-bert-bge.gguf']) {
  cpSync(join(ROOT, '../shared/fixtures', f), join(OUT, 'shared/fixtures', f), { recursive: true });
}
if (process.argv.includes('--node')) execFileSync('sh', ['-c', `xz -6 -T0 -c "${process.execPath}" > "${join(OUT, 'node.xz')}"`]);
console.log(`packed ${tests.length} test files and the GPU benchmark into ${relative(ROOT, OUT)}/`);
