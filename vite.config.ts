// Vite config for the library build (`npm run build`) and the demo (`npm run demo`).
// WGSL kernels are imported as text with `?raw`; Vite inlines them into the bundle.
// `--mode sw` builds the service worker alone: a lone entry shares no chunk with the
// library, so dist/worker/sw.js is one self-contained file a site can copy and serve.
import { defineConfig } from 'vite';

const LIB_ENTRIES = {
  index: 'src/index.ts',
  node: 'src/node.ts',
  'worker/engine.worker': 'worker/engine.worker.ts',
  'worker/shared.worker': 'worker/shared.worker.ts',
  'cli/main': 'src/cli/main.ts',
  webllm: 'src/compat/webllm/index.ts',
};
const SW_ENTRY = { 'worker/sw': 'worker/sw.ts' };

export default defineConfig(({ mode }) => ({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: mode === 'sw' ? SW_ENTRY : LIB_ENTRIES,
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^node:/, 'webgpu', 'comlink', 'idb-keyval', '@huggingface/jinja'],
    },
  },
  worker: { format: 'es' },
}));
