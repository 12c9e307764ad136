// Node-only pieces of the benchmarks: fixture paths, the generated models' bytes, the
// machine's load, and the host line of a report. Host-neutral measuring code lives in
// bench/lib/*-measure.ts and engine-bench.ts (they also run in a Chromium page).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestModel, type TestModelOptions } from '../../test/helpers/test-model';
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

/** Where a generated bench model's file lives (the temp directory; one name per shape and seed). */
export function benchModelPath(spec: { options: TestModelOptions }): string {
  const o = spec.options;
  return join(tmpdir(), 'tabllm-bench-models', `${o.arch}-v${o.vocab}-d${o.dim}-l${o.layers}-h${o.heads}x${o.kvHeads}-f${o.ffn}-${o.quant}-s${o.seed}-t${o.ropeTheta ?? 10000}.gguf`);
}

/** Writes a bench model's bytes under benchModelPath; a cut-off write leaves no half file under the real name. */
export function writeBenchModel(spec: { options: TestModelOptions }, bytes: Uint8Array): string {
  const file = benchModelPath(spec);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.part`, bytes);
  renameSync(`${file}.part`, file);
  return file;
}

/**
 * A generated bench model as a file in the temp directory, written once (the full-size
 * shapes take minutes to generate; scripts/gen-bench-models.ts makes them on every core)
 * and reused by later runs and by the Chromium bench.
 */
export function benchModelFile(spec: { name: string; options: TestModelOptions }): string {
  const file = benchModelPath(spec);
  return existsSync(file) ? file : writeBenchModel(spec, makeTestModel(spec.options));
}
