// Decode attention split in fixed partitions (GPU kernel set, forced on SwiftShader): a
// context past 256 positions runs attention as partial + combine over partitions of 256
// (kernels/attention.ts fixedSplitPlan), wired through forward.ts and the runner. A token's
// partitions past its own context are empty, so its logits must be the same bits alone as
// inside batches of T = 3, 16 and 37 whose longest context (the partition count) differs,
// and must match the float64 reference. The split's pipelines are compiled at load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTENTION_PART_LEN } from '../../src/kernels/attention';
import type { GpuModelRunner } from '../../src/gpu/runner';
import { makeTestModel } from '../helpers/test-model';
import { RefModel } from '../ref/ref-model';
import { buildStep, loadRunner, scatteredBlocks, type SeqChunk } from './runner-harness';

// llama, 2 layers, 4 query heads over 2 kv heads of 16 dims: K/V of one position is 512 B.
const MODEL = makeTestModel({ arch: 'llama', vocab: 96, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'Q8_0', seed: 29, contextLength: 2048 });
const A_LEN = 300; // sequence A's context before its decode: 2 partitions
const B_LEN = 520; // sequence B's: 3 partitions
// (Prefill on the GPU set costs SwiftShader ~4 ms per attention workgroup and partition:
// these lengths keep the file near a minute.)
/** f32 kernels vs float64 over 301 positions: logits of magnitude ~1; 1e-3 absolute leaves margin. */
const REF_TOLERANCE = 1e-3;

const tokens = (seed: number, n: number) => Array.from({ length: n }, (_, i) => 1 + ((seed * 31 + i * 7 + ((i * i) % 13)) % 95));
const aTokens = tokens(1, A_LEN + 1);
const bTokens = tokens(2, B_LEN + 1);

let runner: GpuModelRunner;
let blocks: Int32Array;
const aTable = () => blocks.subarray(0, 19);
const bTable = () => blocks.subarray(19, 52);
const cTable = () => blocks.subarray(52, 55);
const dTable = () => blocks.subarray(55, 71);

beforeAll(async () => {
  runner = await loadRunner(MODEL, 4 << 20, { kernels: 'gpu' });
  blocks = scatteredBlocks(runner.numKvBlocks, 71, 5);
  // Prefill A and B in chunks (one sampled row each step keeps the readback small).
  for (const [toks, len, table] of [[aTokens, A_LEN, aTable()], [bTokens, B_LEN, bTable()]] as const) {
    for (let p = 0; p < len; p += 300) {
      await runner.step(buildStep([{ tokens: toks.slice(p, Math.min(len, p + 300)), startPos: p, blockTable: table, sample: false }]));
    }
  }
}, 600_000);
afterAll(() => runner?.destroy());

/** A's decode of its token at position A_LEN, with `others` more tokens of B (decode) and C (prefill) in the step. */
async function aLogits(others: number): Promise<Float32Array> {
  const chunks: SeqChunk[] = [{ tokens: [aTokens[A_LEN]], startPos: A_LEN, blockTable: aTable(), sample: true }];
  if (others > 0) chunks.push({ tokens: [bTokens[B_LEN]], startPos: B_LEN, blockTable: bTable(), sample: true });
  if (others > 1) chunks.push({ tokens: tokens(3, others - 1), startPos: 0, blockTable: cTable(), sample: true });
  const out = await runner.step(buildStep(chunks, { returnLogits: true }));
  return out.logits!.slice(0, runner.config.vocabSize);
}

describe('split decode attention on the GPU kernel set', () => {
  it('runs attention as partial + combine past one partition (one more dispatch per layer)', async () => {
    expect(runner.ctx.software).toBe(false);
    await aLogits(0);
    const split = runner.lastStepStats!.dispatches;
    // The same decode shape at a context within one partition: the one-pass kernel.
    await runner.step(buildStep([{ tokens: [5], startPos: ATTENTION_PART_LEN - 1, blockTable: dTable(), sample: true }], { returnLogits: true }));
    expect(split - runner.lastStepStats!.dispatches).toBe(runner.config.numLayers);
    expect(runner.compilesAfterLoad).toBe(0);
  });

  it("a decode token's logits are the same bits alone as inside batches of T = 3, 16 and 37 (3 partitions there, 2 alone)", async () => {
    const alone = new Uint32Array((await aLogits(0)).buffer);
    for (const T of [3, 16, 37]) {
      expect(new Uint32Array((await aLogits(T - 1)).buffer), `T = ${T}`).toEqual(alone);
    }
    expect(runner.compilesAfterLoad).toBe(0);
  });

  it('matches the float64 reference at context 301', async () => {
    const gpu = await aLogits(0);
    const ref = await RefModel.fromGGUF(MODEL, A_LEN + 1);
    let logits: Float64Array = new Float64Array(0);
    for (let pos = 0; pos <= A_LEN; pos++) logits = ref.forward(aTokens[pos], pos);
    let worst = 0;
    for (let v = 0; v < logits.length; v++) worst = Math.max(worst, Math.abs(gpu[v] - logits[v]));
    expect(worst).toBeLessThan(REF_TOLERANCE);
  }, 300_000);
});
