// `npm run bench:gpu`: the GPU benchmark of issue #18 in Node (Dawn), see bench/lib/gpu-measure.ts
// for what is measured; bench/gpu-chromium.ts runs the same in headless Chromium.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/gpu.ts [--quick]
// Full: the Qwen2.5-0.5B and Llama-3.2-1B shapes (generated once into the temp directory),
// decode at batch 1 / 16 / 64, prefill 512 — for a real GPU (< 5 minutes).
// Each measured row also times layer 0's gate|up GEMM at the prefill's token count with the
// tiled kernel's 4×4 and 8×4 register tiles side by side (the "Prefill GEMM" table).
// --quick: small qwen2 / llama shapes, batch 1 / 16, a few steps, so it runs end to end on
// SwiftShader; plus the Qwen2.5-0.5B shape measured for recording only (R, B, D; with the GPU
// kernel set forced, as a real GPU records it, and with the software set), unless
// TABLLM_BENCH_GPU_FULL_SHAPE=0. Last line: `bench:gpu: dispatches/layer D, bind groups/step B,
// record ms/step R, matvec roofline P%`.
import { loadavg } from 'node:os';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { gpuBenchPlan } from './lib/gpu-models';
import { gpuReport, measureGpu } from './lib/gpu-measure';
import { benchModelFile, machineLoad, nodeHost } from './lib/node-bench';

const loadAtStart = machineLoad();
const plan = gpuBenchPlan(process.argv.includes('--quick'), process.env.TABLLM_BENCH_GPU_FULL_SHAPE !== '0');
const models = plan.models.map((m) => ({ name: m.spec.name, model: benchModelFile(m.spec), recordOnly: m.recordOnly, kernels: m.kernels }));
const result = await measureGpu(await createNodeGPU(), models, plan.options, (s) => console.error(`[bench:gpu] ${s}`), () => loadavg()[0]!);
console.log(`# GPU benchmark (Node, Dawn)${plan.quick ? ' — --quick' : ''}\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
console.log(gpuReport(result, nodeHost(), plan.label(result.software)));
process.exit(0);
