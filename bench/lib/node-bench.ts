// Node-only pieces of the benchmarks: fixture paths, the generated models' bytes, the
// machine's load, and the host line of a report. Host-neutral measuring code lives in
// bench/lib/*-measure.ts and engine-bench.ts (they also run in a Chromium page).
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestModel } from '../../test/helpers/test-model';
import { MODEL_30M } from './engine-bench';

export const STORIES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');

/** The compute-regime model's GGUF bytes (bench/lib/engine-bench.ts MODEL_30M). */
export function model30M(): Uint8Array {
  return makeTestModel(MODEL_30M);
}

export function machineLoad(): string {
  return `load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`;
}

export function nodeHost(): string {
  return `Node ${process.version}, \`webgpu\` package (Dawn)`;
}
