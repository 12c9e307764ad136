// Weight uploads through one reused pair of host buffers (UploadScratch, weights.ts): a
// load reads every chunk into the same buffer (ByteSource.readInto) and repacks it into
// the same words, instead of two new arrays per chunk (less host memory during the load,
// bench/load-memory.ts). What lands on the GPU must be the same bytes either way: several
// tensors in a row, chunks smaller than a tensor, a last chunk shorter than the rest, a
// concatenation whose chunks straddle two tensors, a tensor split into parts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context';
import { ggufRowBytes, repackRows } from '../../src/gpu/repack';
import { uploadConcatenated, uploadTensor, UploadScratch, type GpuWeight, type UploadOptions } from '../../src/gpu/weights';
import { openSource } from '../../src/model/gguf/source';
import { GGMLType, type GGUFTensorInfo } from '../../src/model/gguf/types';
import { getTestDevice, readBuffer } from '../helpers/gpu';
import { randomTensorBytes } from './matmul-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'tabllm-upload-scratch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file of the given tensors back to back (with a gap, so offsets are not 0-based), and their infos. */
function tensorFile(tensors: Array<{ name: string; type: GGMLType; rows: number; cols: number; seed: number }>): { path: string; infos: GGUFTensorInfo[] } {
  let offset = 96;
  const infos: GGUFTensorInfo[] = [];
  const chunks: Uint8Array[] = [new Uint8Array(96).fill(0xee)];
  for (const t of tensors) {
    const bytes = randomTensorBytes(t.type, t.rows, t.cols, t.seed);
    infos.push({ name: t.name, type: t.type, shape: [t.cols, t.rows], offset, byteLength: bytes.length });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const path = join(dir, `t${infos.length}-${tensors[0].seed}.bin`);
  writeFileSync(path, Buffer.concat(chunks));
  return { path, infos };
}

async function gpuBytes(ctx: GpuContext, w: GpuWeight): Promise<number[][]> {
  const out: number[][] = [];
  for (const p of w.parts) out.push(Array.from(new Uint8Array(await readBuffer(ctx.device, p.buffer))));
  return out;
}

describe('weight upload through a reused scratch', () => {
  it('puts the same bytes on the GPU as new arrays per chunk, across tensors, types, chunks and parts', async () => {
    const { device } = await getTestDevice();
    const ctx = new GpuContext(device, { f16: false, subgroups: false }, true);
    const { path, infos } = tensorFile([
      { name: 'a', type: GGMLType.Q4_K, rows: 37, cols: 512, seed: 1 },
      { name: 'b', type: GGMLType.Q8_0, rows: 45, cols: 96, seed: 2 },
      { name: 'c', type: GGMLType.Q6_K, rows: 19, cols: 256, seed: 3 },
      { name: 'd', type: GGMLType.F32, rows: 7, cols: 33, seed: 4 },
    ]);
    const source = await openSource(path);
    expect(source.readInto).toBeTypeOf('function'); // a Node file reads into the scratch
    try {
      const scratch = new UploadScratch();
      // ~5 rows a chunk (a short last chunk); parts of at most 16 rows for `a` and `b`.
      const small = (info: GGUFTensorInfo): UploadOptions => ({ chunkBytes: 5 * ggufRowBytes(info.type, info.shape[0]), maxPartBytes: 16 * ggufRowBytes(info.type, info.shape[0]) });
      for (const info of infos) {
        const plain = await uploadTensor(ctx, source, info, small(info));
        const reused = await uploadTensor(ctx, source, info, { ...small(info), scratch });
        expect(reused.parts.length).toBe(plain.parts.length);
        expect(await gpuBytes(ctx, reused), info.name).toEqual(await gpuBytes(ctx, plain));
        plain.destroy();
        reused.destroy();
      }
      // q|k|v-style: `a`'s 37 rows then a second Q4_K tensor, chunks of 8 rows straddling the seam.
      const { path: path2, infos: pair } = tensorFile([
        { name: 'q', type: GGMLType.Q4_K, rows: 37, cols: 512, seed: 5 },
        { name: 'k', type: GGMLType.Q4_K, rows: 13, cols: 512, seed: 6 },
      ]);
      const source2 = await openSource(path2);
      try {
        const opts = { chunkBytes: 8 * ggufRowBytes(GGMLType.Q4_K, 512) };
        const plain = await uploadConcatenated(ctx, source2, 'qk', pair, opts);
        const reused = await uploadConcatenated(ctx, source2, 'qk', pair, { ...opts, scratch });
        expect(await gpuBytes(ctx, reused)).toEqual(await gpuBytes(ctx, plain));
        plain.destroy();
        reused.destroy();
      } finally {
        await source2.close?.();
      }
    } finally {
      await source.close?.();
    }
  });

  it('a NaN in a chunk read into the scratch is still refused, naming the tensor', async () => {
    const { device } = await getTestDevice();
    const ctx = new GpuContext(device, { f16: false, subgroups: false }, true);
    const { path, infos } = tensorFile([{ name: 'bad', type: GGMLType.F32, rows: 9, cols: 16, seed: 7 }]);
    const bytes = new Float32Array(9 * 16).fill(0.5);
    bytes[5 * 16 + 3] = NaN;
    writeFileSync(path, Buffer.concat([new Uint8Array(96), new Uint8Array(bytes.buffer)]));
    const source = await openSource(path);
    try {
      await expect(uploadTensor(ctx, source, infos[0], { chunkBytes: 4 * 16 * 4, scratch: new UploadScratch() })).rejects.toMatchObject({ code: 'invalid_weights' });
    } finally {
      await source.close?.();
    }
  });
});

describe('repackRows into a scratch', () => {
  it('writes the same words as into a new array, whatever the scratch held before', () => {
    const scratch = new ArrayBuffer(1 << 16);
    new Uint8Array(scratch).fill(0xab); // stale bytes must not survive in the padding
    for (const [type, rows, cols] of [[GGMLType.Q8_0, 3, 96], [GGMLType.Q4_K, 5, 256], [GGMLType.Q6_K, 1, 256], [GGMLType.F16, 3, 7]] as const) {
      const bytes = randomTensorBytes(type, rows, cols, rows * cols);
      const fresh = repackRows(type, bytes, rows, cols);
      const reused = repackRows(type, bytes, rows, cols, scratch);
      expect(reused.scaleOffsetWords).toBe(fresh.scaleOffsetWords);
      expect(Array.from(reused.words)).toEqual(Array.from(fresh.words));
    }
    expect(() => repackRows(GGMLType.Q8_0, randomTensorBytes(GGMLType.Q8_0, 64, 96, 1), 64, 96, new ArrayBuffer(16))).toThrow(/scratch/);
  });
});
