// bench/gpu.ts in headless Chromium (navigator.gpu): the same measurement
// (bench/lib/gpu-measure.ts) and models, served from 127.0.0.1 (bench/lib/chromium-bench.ts).
//   node --import tsx --import ./scripts/raw-loader.mjs bench/gpu-chromium.ts [--quick]
import { gpuBenchPlan } from './lib/gpu-models';
import { gpuReport } from './lib/gpu-measure';
import { openBenchPage } from './lib/chromium-bench';
import { benchModelFile, machineLoad } from './lib/node-bench';

const loadAtStart = machineLoad();
const plan = gpuBenchPlan(process.argv.includes('--quick'), process.env.TABLLM_BENCH_GPU_FULL_SHAPE !== '0');
const bench = await openBenchPage('gpu');
try {
  const models = plan.models.map((m) => {
    const file = benchModelFile(m.spec);
    return { name: m.spec.name, model: bench.serveModel(file.slice(file.lastIndexOf('/') + 1), file), recordOnly: m.recordOnly, kernels: m.kernels };
  });
  const result = await bench.call('gpu', models, plan.options);
  console.log(`# GPU benchmark (${bench.chromium})${plan.quick ? ' — --quick' : ''}\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
  console.log(gpuReport(result, bench.host, plan.label(result.software)));
} finally {
  await bench.close();
}
process.exit(0);
