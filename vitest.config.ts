// Three test tiers, all run by `npm test` (scripts/test.mjs):
//   unit — Node, no GPU;  gpu — Node + the `webgpu` package (Dawn);  e2e — Debian Chromium via playwright-core.
// GPU tiers run one file at a time: a software adapter (SwiftShader) is CPU-bound and shares the 2 cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          setupFiles: ['test/helpers/gpu-env.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
