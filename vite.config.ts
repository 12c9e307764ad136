// Vite config for the library build (`npm run build`) and the demo (`npm run demo`).
// WGSL kernels are imported as text with `?raw`; Vite inlines them into the bundle.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: {
        index: 'src/index.ts',
        node: 'src/node.ts',
        'worker/engine.worker': 'worker/engine.worker.ts',
        'worker/shared.worker': 'worker/shared.worker.ts',
        'worker/sw': 'worker/sw.ts',
        'cli/main': 'src/cli/main.ts',
        webllm: 'src/compat/webllm/index.ts',
      },
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^node:/, 'webgpu', 'comlink', 'idb-keyval', '@huggingface/jinja'],
    },
  },
  worker: { format: 'es' },
});
