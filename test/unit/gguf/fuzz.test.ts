// Property test: any mutation or truncation of a valid GGUF either parses or fails with a
// GGUFError (never a RangeError/TypeError from deep inside), quickly, reading only real bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GGMLType, GGUFError, GGUFValueType as V, MemorySource, readGGUF, writeGGUF } from '../../../src/model/gguf';

const BASE = writeGGUF({
  metadata: {
    'general.architecture': 'llama',
    'general.alignment': 64,
    'llama.block_count': { type: V.UINT32, value: 2 },
    'test.u64': { type: V.UINT64, value: 2n ** 60n },
    'test.f64': { type: V.FLOAT64, value: 0.5 },
    'tokenizer.ggml.tokens': ['a', 'bc', '▁d', '🦙'],
    'tokenizer.ggml.scores': new Float32Array([0, -1, -2, -3]),
    'test.nested': [[1, 2], [3]],
    'test.bools': [true, false],
  },
  tensors: [
    { name: 'a', type: GGMLType.F32, shape: [8, 2], data: new Float32Array(16) },
    { name: 'b', type: GGMLType.Q8_0, shape: [32], data: new Float32Array(32) },
    { name: 'c', type: GGMLType.Q4_K, shape: [256], data: new Float32Array(256) },
  ],
});

async function parseOutcome(bytes: Uint8Array): Promise<string> {
  const source = new MemorySource(bytes);
  try {
    const gguf = await readGGUF(source);
    for (const t of gguf.tensors) {
      expect(t.offset + t.byteLength).toBeLessThanOrEqual(bytes.byteLength);
      expect(t.offset % gguf.alignment).toBe(0);
    }
    return 'ok';
  } catch (err) {
    if (!(err instanceof GGUFError)) throw err;
    return err.code;
  }
}

describe('mutated GGUF files', () => {
  it('byte overwrites in the header give a result or a GGUFError', async () => {
    const headerEnd = (await readGGUF(BASE)).dataOffset;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(headerEnd - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (edits) => {
        const bytes = BASE.slice();
        for (const [at, value] of edits) bytes[at] = value;
        const start = performance.now();
        await parseOutcome(bytes);
        expect(performance.now() - start).toBeLessThan(1000);
      }),
      { numRuns: 400, seed: 42 },
    );
  });

  it('large values written into count/length fields give coded errors', async () => {
    const headerEnd = (await readGGUF(BASE)).dataOffset;
    const big = fc.constantFrom(0xffffffff, 0x80000000, 0x7fffffff, 0x10000, 0x400);
    await fc.assert(
      fc.asyncProperty(fc.nat(headerEnd - 4), big, async (at, value) => {
        const bytes = BASE.slice();
        new DataView(bytes.buffer).setUint32(at, value, true);
        await parseOutcome(bytes);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('every truncation parses only when all tensor bytes remain, else fails with a coded error', async () => {
    const { tensors } = await readGGUF(BASE);
    const dataEnd = Math.max(...tensors.map((t) => t.offset + t.byteLength));
    const codes = new Set<string>();
    for (let length = 0; length < BASE.byteLength; length++) {
      const outcome = await parseOutcome(BASE.subarray(0, length));
      expect(outcome === 'ok', `length ${length}: ${outcome}`).toBe(length >= dataEnd);
      codes.add(outcome);
    }
    // bad_count: the first 24 bytes claim 3 tensors, which cannot fit in so short a file.
    expect([...codes].sort()).toEqual(['bad_count', 'ok', 'tensor_out_of_bounds', 'truncated']);
  });
});
