// Corrupt weights are refused at load: generated models (test/helpers/test-model.ts) with one
// NaN/Inf poked into a weight element, a Q8_0 block scale, a Q4_K block min or a norm vector
// make createEngine on the WebGPU runner reject with `invalid_weights` naming the tensor —
// instead of loading and answering garbage. The same file unpoisoned loads.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { readGGUF } from '../../src/model/gguf/reader';
import { makeTestModel, type TestQuant } from '../helpers/test-model';

function model(quant: TestQuant): Uint8Array {
  return makeTestModel({ arch: 'llama', vocab: 300, dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 256, quant, seed: 7 });
}

/** A copy of `bytes` with `patch` written at byte `at` of tensor `name`'s data. */
async function poison(bytes: Uint8Array, name: string, at: number, patch: number[]): Promise<Uint8Array> {
  const tensor = (await readGGUF(bytes)).tensors.find((t) => t.name === name);
  if (!tensor) throw new Error(`no tensor ${name}`);
  const out = bytes.slice();
  out.set(patch, tensor.offset + at);
  return out;
}

const F32_NAN = [0x00, 0x00, 0xc0, 0x7f];
const F32_INF = [0x00, 0x00, 0x80, 0x7f];
const F16_INF = [0x00, 0x7c];
const F16_NAN = [0x00, 0x7e];

async function load(bytes: Uint8Array) {
  return createEngine({ model: bytes, gpu: await createNodeGPU(), kvCacheBytes: 1 << 20, precision: 'f32' });
}

describe('NaN/Inf weights are refused at load (WebGPU runner)', () => {
  it('the clean Q8_0 model loads', async () => {
    const engine = await load(model('Q8_0'));
    expect((await engine.info()).quant).toBe('Q8_0');
    await engine.destroy();
  });

  it('a NaN element in an F32 matrix', async () => {
    const bytes = await poison(model('F32'), 'blk.0.attn_q.weight', 7 * 4, F32_NAN);
    await expect(load(bytes)).rejects.toMatchObject({
      code: 'invalid_weights',
      message: expect.stringMatching(/tensor "blk\.0\.attn_q\.weight": element 7 is NaN/),
    });
  });

  it('an Inf scale in a Q8_0 block', async () => {
    const bytes = await poison(model('Q8_0'), 'blk.1.ffn_down.weight', 3 * 34, F16_INF);
    await expect(load(bytes)).rejects.toMatchObject({
      code: 'invalid_weights',
      message: expect.stringMatching(/tensor "blk\.1\.ffn_down\.weight": block 3 has Q8_0 d = \+Inf/),
    });
  });

  it('a NaN min in a Q4_K block of the token embedding', async () => {
    const bytes = await poison(model('Q4_K'), 'token_embd.weight', 2 * 144 + 2, F16_NAN);
    await expect(load(bytes)).rejects.toMatchObject({
      code: 'invalid_weights',
      message: expect.stringMatching(/tensor "token_embd\.weight": block 2 has Q4_K dmin = NaN/),
    });
  });

  it('an Inf in a norm vector (dequantized on the CPU, not through the matrix upload)', async () => {
    const bytes = await poison(model('Q8_0'), 'output_norm.weight', 0, F32_INF);
    await expect(load(bytes)).rejects.toMatchObject({
      code: 'invalid_weights',
      message: expect.stringMatching(/tensor "output_norm\.weight": element 0 is \+Inf/),
    });
  });
});
