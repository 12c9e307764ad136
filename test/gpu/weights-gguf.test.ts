// A real GGUF (stories260K, all F32) streamed tensor by tensor onto the GPU: bytes
// round-trip exactly, total GPU bytes ≤ 1.05 × tensor bytes in the file, and the
// embedding/LM-head kernels read the uploaded tensors correctly.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unrepackRows } from '../../src/gpu/repack';
import { MAX_GPU_BYTES_RATIO, uploadTensor, type GpuWeight } from '../../src/gpu/weights';
import { dequantizeF64, readGGUF, readTensorBytes } from '../../src/model/gguf';
import { openSource } from '../../src/model/gguf/source';
import { readBuffer } from '../helpers/gpu';
import { matmulRef, randomActivations } from './matmul-fixtures';
import { runEmbedding, runMatmul, testContext } from './matmul-run';

const GGUF = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');

describe('stories260K.gguf on the GPU', () => {
  it('every tensor uploads byte-exact from its byte range; GPU bytes ≤ 1.05 × file bytes', async () => {
    const ctx = await testContext();
    const file = await readGGUF(GGUF);
    const source = await openSource(GGUF);
    let fileBytes = 0;
    let gpuBytes = 0;
    const weights = new Map<string, GpuWeight>();
    for (const info of file.tensors) {
      const w = await uploadTensor(ctx, source, info);
      weights.set(info.name, w);
      fileBytes += info.byteLength;
      gpuBytes += w.gpuBytes;
      const want = await source.read(info.offset, info.byteLength);
      const words = new Uint32Array(await readBuffer(ctx.device, w.parts[0].buffer));
      expect(w.parts.length).toBe(1);
      expect(unrepackRows(w.type, words, w.rows, w.cols)).toEqual(want);
    }
    expect(file.tensors.length).toBe(weights.size);
    expect(gpuBytes).toBeLessThanOrEqual(fileBytes * MAX_GPU_BYTES_RATIO);

    // the embedding table as a gather and (tied) as the LM head
    const emb = weights.get('token_embd.weight')!;
    const embInfo = file.tensors.find((t) => t.name === 'token_embd.weight')!;
    const table = dequantizeF64(embInfo.type, await readTensorBytes(GGUF, embInfo)); // [512, 64]
    expect([emb.rows, emb.cols]).toEqual([512, 64]);
    const ids = Int32Array.from([1, 511, 0, 300, 300]);
    const rows = await runEmbedding(ctx, emb, ids);
    for (let t = 0; t < ids.length; t++) {
      for (let k = 0; k < 64; k++) expect(rows[t * 64 + k]).toBe(Math.fround(table[ids[t] * 64 + k]));
    }
    const x = randomActivations(3 * 64, 9);
    const logits = await runMatmul(ctx, emb, x, 3);
    const ref = matmulRef(x, table, 3, 512, 64);
    for (let i = 0; i < logits.length; i++) expect(Math.abs(logits[i] - ref.y[i])).toBeLessThanOrEqual(1e-4 * ref.mag[i]);
    for (const w of weights.values()) w.destroy();
    await source.close?.();
  });
});
