// Three test tiers, all run by `npm test` (scripts/test.mjs):
//   unit — Node, no GPU;  gpu — Node + the `webgpu` package (Dawn);  e2e — Debian Chromium via playwright-core.
// The gpu tier runs two files at a time: SwiftShader spreads a dispatch over the cores, but its
// shader compiles run on one, and matmul.test.ts (the longest file) is mostly compiles — two
// files at once took the tier from 1131 s to 806 s here. e2e runs one file at a time (each
// drives its own Chromium). Projects with different maxWorkers need their own groupOrder.
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
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
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
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
