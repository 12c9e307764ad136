// Loading a model whose matrices are in a type the GPU has no kernel for (an IQ type other
// than IQ4_NL/IQ4_XS) fails at load, naming the tensor and the type — not at the first
// step, and not by reading the bytes as something else. IQ3_S blocks are 110 bytes per 256
// values like Q3_K's, so retyping one tensor of a Q3_K model keeps the file well-formed.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { readGGUF } from '../../src/model/gguf/reader';
import { GGMLType } from '../../src/model/gguf/types';
import { makeTestModel } from '../helpers/test-model';

const OPTIONS = { arch: 'llama', vocab: 300, dim: 256, layers: 1, heads: 4, kvHeads: 2, ffn: 256, quant: 'Q3_K', seed: 5 } as const;

/** A copy of `bytes` with tensor `name`'s type id (in its header entry) set to `type`. */
function retype(bytes: Uint8Array, name: string, type: GGMLType): Uint8Array {
  const out = bytes.slice();
  const nameBytes = new TextEncoder().encode(name);
  // header entry: name (u64 length + bytes), n_dims u32, dims u64 x n_dims, type u32, offset u64
  const at = Buffer.from(out).indexOf(Buffer.from(nameBytes));
  if (at < 0) throw new Error(`no tensor ${name}`);
  const view = new DataView(out.buffer);
  const nDims = view.getUint32(at + nameBytes.length, true);
  view.setUint32(at + nameBytes.length + 4 + 8 * nDims, type, true);
  return out;
}

async function load(bytes: Uint8Array) {
  return createEngine({ model: bytes, gpu: await createNodeGPU(), kvCacheBytes: 1 << 20, precision: 'f32' });
}

describe('weight types at load (WebGPU runner)', () => {
  it('the Q3_K model loads', async () => {
    const engine = await load(makeTestModel(OPTIONS));
    expect((await engine.info()).quant).toBe('Q3_K_S');
    await engine.destroy();
  });

  it('an IQ3_S matrix fails at load with unsupported_tensor_type naming the tensor and the type', async () => {
    const bytes = retype(makeTestModel(OPTIONS), 'blk.0.ffn_up.weight', GGMLType.IQ3_S);
    const file = await readGGUF(bytes);
    expect(file.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!.type).toBe(GGMLType.IQ3_S);
    await expect(load(bytes)).rejects.toMatchObject({
      name: 'GGUFError',
      code: 'unsupported_tensor_type',
      message: expect.stringContaining('tensor blk.0.ffn_up.weight has type IQ3_S, which tabllm cannot run on the GPU'),
    });
  });
});
