// The Chromium side of bench/runner-chromium.ts, batching-chromium.ts,
// prefix-cache-chromium.ts and gpu-chromium.ts: the same measuring functions as the Node benches, called with
// `navigator.gpu` and model URLs served by the bench server (bench/lib/chromium-bench.ts).
// Results are plain data, returned to Node through page.evaluate and printed there.
import { measureBatching, type BatchingOptions } from '../lib/batching-measure';
import { measureGpu, type GpuBenchModel, type GpuBenchOptions } from '../lib/gpu-measure';
import { measurePrefixCache, type PrefixOptions } from '../lib/prefix-measure';
import { benchAdapter, measureRunner, type RunnerBenchModel, type RunnerBenchOptions } from '../lib/runner-measure';

/** Progress lines for the Node side (forwarded from the console), with time since page load. */
function note(msg: string): void {
  console.info(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${msg}`);
}

function gpu(): GPU {
  if (!navigator.gpu) throw new Error('this page has no navigator.gpu (WebGPU off?)');
  return navigator.gpu;
}

export const benchApi = {
  adapter: () => benchAdapter(gpu()),
  runner: (models: RunnerBenchModel[], options: RunnerBenchOptions) => measureRunner(gpu(), models, options),
  batching: (options: BatchingOptions) => measureBatching(gpu(), options, note),
  prefixCache: (modelUrl: string, options: PrefixOptions) => measurePrefixCache(gpu(), modelUrl, options),
  gpu: (models: GpuBenchModel[], options: GpuBenchOptions) => measureGpu(gpu(), models, options, note),
};
export type BenchApi = typeof benchApi;

Object.assign(window, { tabllmBench: benchApi, pageReady: true });
