import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context';
import { repackRows, RepackError, unrepackRows } from '../../src/gpu/repack';
import { uploadTensor, uploadWeightBytes, WeightError } from '../../src/gpu/weights';
import type { ByteSource } from '../../src/model/gguf/types';
import { GGMLType } from '../../src/model/gguf/types';
import { getTestDevice, readBuffer } from '../helpers/gpu';
import { dequantLocal, dequantRef, randomTensorBytes } from './matmul-fixtures';

// [type, cols]: odd block counts per row on purpose (F16 halves and f16 scales straddle rows)
const TYPES: [GGMLType, number][] = (
  [
    [GGMLType.F32, 37],
    [GGMLType.F16, 37],
    [GGMLType.Q8_0, 96],
    [GGMLType.Q4_0, 96],
    [GGMLType.Q4_K, 256 * 3],
    [GGMLType.Q5_K, 256 * 3],
    [GGMLType.Q6_K, 256 * 3],
    [GGMLType.BF16, 37],
    [GGMLType.Q4_1, 96],
    [GGMLType.Q5_0, 96],
    [GGMLType.Q5_1, 96],
    [GGMLType.Q2_K, 256 * 3],
    [GGMLType.Q3_K, 256 * 3],
    [GGMLType.IQ4_NL, 96],
    [GGMLType.IQ4_XS, 256 * 3],
  ] as [GGMLType, number][]
);
const NAMED = TYPES.map(([t, c]) => [GGMLType[t], t, c] as const);

async function ctx(): Promise<GpuContext> {
  const { device } = await getTestDevice();
  return new GpuContext(device, { f16: false, subgroups: false });
}

/** The whole tensor's GGUF bytes back from the GPU: read every part, undo the repack. */
async function downloadGguf(c: GpuContext, w: Awaited<ReturnType<typeof uploadWeightBytes>>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (const p of w.parts) {
    const words = new Uint32Array(await readBuffer(c.device, p.buffer));
    chunks.push(unrepackRows(w.type, words, p.rows, w.cols));
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const ch of chunks) (out.set(ch, o), (o += ch.length));
  return out;
}

describe('repack (CPU)', () => {
  it.each(NAMED)('%s: unrepack(repack(bytes)) === bytes', (_name, type, cols) => {
    const bytes = randomTensorBytes(type, 5, cols, 11);
    const packed = repackRows(type, bytes, 5, cols);
    expect(packed.words.byteLength).toBeLessThanOrEqual(bytes.length + 4);
    expect(unrepackRows(type, packed.words, 5, cols)).toEqual(bytes);
  });

  it.each(NAMED)('%s: the shared CPU dequant and the local one in the test agree exactly', (_name, type, cols) => {
    const bytes = randomTensorBytes(type, 3, cols, 12, { scaleExp: [-10, 10] });
    expect(dequantLocal(type, bytes, 3, cols)).toEqual(dequantRef(type, bytes, 3, cols));
  });

  it('rejects ragged quant rows, wrong lengths and unsupported types with codes', () => {
    const e1 = (() => { try { repackRows(GGMLType.Q4_0, new Uint8Array(18), 1, 31); } catch (e) { return e; } })();
    expect((e1 as RepackError).code).toBe('bad_shape');
    const e2 = (() => { try { repackRows(GGMLType.Q4_0, new Uint8Array(17), 1, 32); } catch (e) { return e; } })();
    expect((e2 as RepackError).code).toBe('bad_length');
    const e3 = (() => { try { repackRows(GGMLType.IQ2_XXS, new Uint8Array(66), 1, 256); } catch (e) { return e; } })();
    expect((e3 as RepackError).code).toBe('unsupported_type');
    expect((e3 as RepackError).message).toMatch(/IQ2_XXS is not supported/);
  });
});

describe('uploadWeight (GPU)', () => {
  it.each(NAMED)('%s: GPU bytes undo to the GGUF bytes exactly, ≤ 1.05× the file size', async (_name, type, cols) => {
    const c = await ctx();
    const rows = 7;
    const bytes = randomTensorBytes(type, rows, cols, 3);
    const w = await uploadWeightBytes(c, 'w', type, [cols, rows], bytes);
    expect(w.parts.length).toBe(1);
    expect(w.fileBytes).toBe(bytes.length);
    expect(w.gpuBytes).toBeLessThanOrEqual(Math.ceil(bytes.length * 1.05) + 8);
    expect(await downloadGguf(c, w)).toEqual(bytes);
    w.destroy();
  });

  it.each(NAMED)('%s: split by rows into parts and uploaded in odd chunks, still byte-exact', async (_name, type, cols) => {
    const c = await ctx();
    const rows = 23;
    const bytes = randomTensorBytes(type, rows, cols, 5);
    const rowBytes = bytes.length / rows;
    // parts of ~5 rows, chunks of 3 rows: part and chunk boundaries fall mid-way
    const w = await uploadWeightBytes(c, 'split', type, [cols, rows], bytes, { maxPartBytes: rowBytes * 5 + 8, chunkBytes: rowBytes * 3 });
    expect(w.parts.length).toBeGreaterThan(3);
    expect(w.parts.map((p) => p.rows).reduce((a, b) => a + b)).toBe(rows);
    for (let i = 1; i < w.parts.length; i++) expect(w.parts[i].rowStart).toBe(w.parts[i - 1].rowStart + w.parts[i - 1].rows);
    for (const p of w.parts) expect(p.byteLength).toBeLessThanOrEqual(rowBytes * 5 + 8);
    expect(await downloadGguf(c, w)).toEqual(bytes);
    w.destroy();
  });

  it('uploadTensor reads only the tensor byte range, in chunks', async () => {
    const c = await ctx();
    const type = GGMLType.Q4_0;
    const bytes = randomTensorBytes(type, 9, 64, 8);
    const file = new Uint8Array(1000 + bytes.length);
    file.set(bytes, 1000);
    const reads: [number, number][] = [];
    const source: ByteSource = {
      size: file.length,
      read: async (off, len) => (reads.push([off, len]), file.slice(off, off + len)),
    };
    const w = await uploadTensor(c, source, { name: 't', type, shape: [64, 9], offset: 1000, byteLength: bytes.length }, { chunkBytes: 36 * 2 });
    expect(reads.length).toBe(5);
    expect(Math.min(...reads.map((r) => r[0]))).toBe(1000);
    expect(Math.max(...reads.map((r) => r[0] + r[1]))).toBe(file.length);
    expect(Math.max(...reads.map((r) => r[1]))).toBeLessThanOrEqual(72);
    expect(await downloadGguf(c, w)).toEqual(bytes);
    w.destroy();
  });

  it('errors: a row larger than a binding, a short read, a bad shape', async () => {
    const c = await ctx();
    const bytes = randomTensorBytes(GGMLType.F32, 2, 64, 1);
    const big = await uploadWeightBytes(c, 'big', GGMLType.F32, [64, 2], bytes, { maxPartBytes: 100 }).catch((e) => e);
    expect((big as WeightError).code).toBe('tensor_too_large');
    const short = await uploadWeightBytes(c, 'short', GGMLType.F32, [64, 2], bytes.subarray(0, 300)).catch((e) => e);
    expect((short as WeightError).code).toBe('short_read');
    const shape = await uploadWeightBytes(c, 'shape', GGMLType.F32, [64, 0], bytes).catch((e) => e);
    expect((shape as WeightError).code).toBe('bad_shape');
  });
});
