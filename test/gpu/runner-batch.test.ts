// Batching must not change outputs: a flattened batch mixing prefill chunks and decodes of
// several sequences (scattered, disjoint block tables) gives each sequence the logits it
// gets alone (stories260K, and a generated gemma2 model whose sliding window of 8 cuts
// through chunked prefills). Also: copy-on-write block copies, final hidden states, coded errors.
//
// Bit for bit: a batch may pick the tiled matmul where a lone decode picks the vector one,
// and the two sum in the same order (src/kernels/README.md, the GPU matmul kernels); every
// other kernel works per row, attention per token over its own context. These runners run
// the GPU kernel set (forced on SwiftShader), whose invariance is the harder one; the
// software set's is checked in step-machinery.test.ts.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuModelRunner } from '../../src/gpu/runner';
import { RunnerError } from '../../src/gpu/runner-errors';
import { loadRefWeights } from '../ref/weights';
import { readFileSync } from 'node:fs';
import type { ByteSource } from '../../src/model/gguf/types';
import { makeTestModel } from '../helpers/test-model';
import { buildStep, loadRunner, scatteredBlocks, type SeqChunk } from './runner-harness';

/** Other comparisons (copy-on-write fork, hidden · LM head on the CPU): 1e-4 absolute on |logit| ≲ 20. */
const TOLERANCE = 1e-4;
const MODEL = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');

/** A plausible token stream: BOS, then a fixed walk over the vocabulary. */
function stream(seed: number, length: number): number[] {
  return [1, ...Array.from({ length: length - 1 }, (_, i) => 3 + ((seed * 131 + i * 37) % 500))];
}

interface Plan {
  tokens: number[];
  /** Query length per step (0 = not in that step). */
  chunks: number[];
  blockTable: Int32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Runs the plans (all together or one alone) and returns each plan's logits per sampled step. */
async function runPlans(runner: GpuModelRunner, plans: Plan[], only?: number): Promise<Map<string, Float32Array>> {
  const logits = new Map<string, Float32Array>();
  const done = plans.map(() => 0);
  const numSteps = Math.max(...plans.map((p) => p.chunks.length));
  for (let step = 0; step < numSteps; step++) {
    const chunks: SeqChunk[] = [];
    const who: number[] = [];
    plans.forEach((p, i) => {
      const n = p.chunks[step] ?? 0;
      if (n === 0 || (only !== undefined && i !== only)) return;
      chunks.push({ tokens: p.tokens.slice(done[i], done[i] + n), startPos: done[i], blockTable: p.blockTable, sample: true });
      who.push(i);
    });
    if (chunks.length === 0) continue;
    const out = await runner.step(buildStep(chunks, { returnLogits: true }));
    const vocab = runner.config.vocabSize;
    who.forEach((i, row) => {
      logits.set(`${i}@${step}`, out.logits!.slice(row * vocab, (row + 1) * vocab));
      done[i] += plans[i].chunks[step];
    });
  }
  return logits;
}

let runner: GpuModelRunner;
beforeAll(async () => {
  runner = await loadRunner(MODEL, 2 << 20, { kernels: 'gpu' });
});
afterAll(() => runner?.destroy());

describe('GPU runner batches', () => {
  it('gives each sequence of a mixed batch the logits it gets alone, bit for bit', async () => {
    const blocks = scatteredBlocks(runner.numKvBlocks, 12, 7);
    const plans: Plan[] = [
      { tokens: stream(1, 40), chunks: [17, 12, 1, 1, 1], blockTable: blocks.slice(0, 3) }, // chunked prefill crossing blocks
      { tokens: stream(2, 10), chunks: [3, 1, 1, 1, 1], blockTable: blocks.slice(3, 4) }, // short prefill, then decodes
      { tokens: stream(3, 40), chunks: [0, 0, 33, 1, 1], blockTable: blocks.slice(4, 7) }, // joins late with a long prefill
      { tokens: stream(4, 50), chunks: [1, 1, 1, 1, 1], blockTable: blocks.slice(7, 8) }, // decode only, from position 0
    ];
    const together = await runPlans(runner, plans);
    expect(together.size).toBe(18);
    for (let i = 0; i < plans.length; i++) {
      const alone = await runPlans(runner, plans, i);
      for (const [key, expected] of alone) {
        expect(together.get(key)!, `sequence ${key}`).toEqual(expected);
      }
    }
  }, 1_200_000);

  it('gemma2 (window 8, soft-caps): each sequence of a mixed batch gets the logits it gets alone, bit for bit', async () => {
    const bytes = makeTestModel({
      arch: 'gemma2', vocab: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'F32', seed: 41, contextLength: 128,
      gemma: { slidingWindow: 8, attnSoftcap: 2, finalSoftcap: 4 },
    });
    const gemma = await loadRunner(bytes, 1 << 20, { kernels: 'gpu' });
    try {
      const blocks = scatteredBlocks(gemma.numKvBlocks, 6, 3);
      const ids = (seed: number, n: number) => stream(seed, n).map((id) => id % 300);
      const plans: Plan[] = [
        { tokens: ids(1, 30), chunks: [13, 11, 1, 1], blockTable: blocks.slice(0, 2) }, // chunks straddling the window
        { tokens: ids(2, 12), chunks: [5, 1, 1, 1], blockTable: blocks.slice(2, 3) },
        { tokens: ids(3, 30), chunks: [0, 20, 1, 1], blockTable: blocks.slice(3, 5) },
      ];
      const together = await runPlans(gemma, plans);
      expect(together.size).toBe(11);
      for (let i = 0; i < plans.length; i++) {
        for (const [key, expected] of await runPlans(gemma, plans, i)) {
          expect(together.get(key)!, `sequence ${key}`).toEqual(expected);
        }
      }
    } finally {
      gemma.destroy();
    }
  });

  it('copies blocks before the step (copy-on-write fork continues like the original)', async () => {
    const [a0, a1, b0, b1] = scatteredBlocks(runner.numKvBlocks, 4, 9);
    const tokens = stream(5, 24);
    // Prefill 20 tokens into a's blocks; a and its fork b then decode the same next token.
    await runner.step(buildStep([{ tokens: tokens.slice(0, 20), startPos: 0, blockTable: Int32Array.from([a0, a1]), sample: false }]));
    const step = buildStep([
      { tokens: [tokens[20]], startPos: 20, blockTable: Int32Array.from([a0, a1]), sample: true },
      // b: block 0 shared as is (full), block 1 copied (partially filled, written this step).
      { tokens: [tokens[20]], startPos: 20, blockTable: Int32Array.from([a0, b1]), sample: true },
    ], { returnLogits: true });
    // The two tokens write distinct slots (a1 vs b1); b1 must first hold a1's positions 16..19.
    step.blockCopies = [[a1, b1]];
    const out = await runner.step(step);
    const vocab = runner.config.vocabSize;
    expect(maxAbsDiff(out.logits!.subarray(0, vocab), out.logits!.subarray(vocab))).toBeLessThan(TOLERANCE);
    expect(out.sampled[0].tokenId).toBe(out.sampled[1].tokenId);
    // Without the copy, b reads zeros for positions 16..19: different logits (the test can fail).
    const noCopy = buildStep([{ tokens: [tokens[20]], startPos: 20, blockTable: Int32Array.from([a0, b0]), sample: true }], { returnLogits: true });
    const wrong = await runner.step(noCopy);
    expect(maxAbsDiff(wrong.logits!, out.logits!.subarray(0, vocab))).toBeGreaterThan(1e-2);
  }, 600_000);

  it('returns final-norm hidden states whose LM-head product is the logits', async () => {
    const [b] = scatteredBlocks(runner.numKvBlocks, 1, 3);
    const tokens = stream(6, 5);
    const out = await runner.step(buildStep([{ tokens, startPos: 0, blockTable: Int32Array.from([b]), sample: true }], { returnLogits: true, returnHidden: true }));
    const { dim, vocabSize } = runner.config;
    expect(out.hidden!.length).toBe(tokens.length * dim);
    const { weights } = await loadRefWeights(MODEL);
    const last = out.hidden!.subarray((tokens.length - 1) * dim);
    let worst = 0;
    for (let v = 0; v < vocabSize; v++) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += weights.output[v * dim + i] * last[i];
      worst = Math.max(worst, Math.abs(dot - out.logits![v]));
    }
    expect(worst).toBeLessThan(TOLERANCE);
  }, 600_000);

  it('rejects broken steps with coded errors before touching the GPU', async () => {
    const bad = buildStep([{ tokens: [1, 2], startPos: 0, blockTable: Int32Array.from([runner.numKvBlocks]), sample: true }]);
    await expect(runner.step(bad)).rejects.toMatchObject({ code: 'bad_step_input' });
    const badCopy = buildStep([{ tokens: [1], startPos: 0, blockTable: Int32Array.from([0]), sample: true }]);
    badCopy.blockCopies = [[0, runner.numKvBlocks]];
    await expect(runner.step(badCopy)).rejects.toBeInstanceOf(RunnerError);
  });

  it('refuses a KV budget below one block, a file cut short, and steps after destroy, with codes', async () => {
    await expect(loadRunner(MODEL, 1000)).rejects.toMatchObject({ code: 'kv_cache_too_small' });
    const bytes = new Uint8Array(readFileSync(MODEL));
    // A source that fails mid-way through the tensors (a disk or network error while streaming).
    const cut = Math.floor(bytes.length * 0.6);
    const failing: ByteSource = {
      size: bytes.length,
      read: async (offset, length) => {
        if (offset >= cut) throw new Error('read failed');
        return bytes.subarray(offset, offset + length);
      },
    };
    await expect(loadRunner(failing)).rejects.toMatchObject({ code: 'model_load_failed' });
    const doomed = await loadRunner(bytes, 1 << 20);
    const ok = await doomed.step(buildStep([{ tokens: [1], startPos: 0, blockTable: Int32Array.from([0]), sample: true }]));
    expect(ok.sampled[0].tokenId).toBe(403); // llama2.c's first id after BOS
    doomed.destroy();
    await expect(doomed.step(buildStep([{ tokens: [1], startPos: 0, blockTable: Int32Array.from([0]), sample: true }]))).rejects.toMatchObject({ code: 'runner_unavailable' });
  }, 600_000);
});
