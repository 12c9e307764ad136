// The bge-small-shaped benchmark model (test/helpers/test-embed-model.ts writeBgeSmallModel:
// 12 layers, hidden 384, 12 heads, FFN 1536, the bge vocabulary, CLS pooling, random weights)
// loads from a file and embeds a batch; one text is checked against llama.cpp.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Tokenizer } from '../../src/model/tokenizer';
import { cosine, openLlamaCppEmbedder } from '../helpers/llama-cpp-embed-oracle';
import { writeBgeSmallModel } from '../helpers/test-embed-model';
import { loadEmbedRunner } from './embed-harness';

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tabllm-bge-small-'));
  path = join(dir, 'bge-small-random-f16.gguf');
  await writeBgeSmallModel(path, 'F16');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('a bge-small-shaped F16 model loads and embeds; its CLS vector matches llama.cpp', async () => {
  const bytes = new Uint8Array(await readFile(path));
  const runner = await loadEmbedRunner(bytes);
  const oracle = await openLlamaCppEmbedder(bytes, 512);
  try {
    expect(runner.config).toMatchObject({ arch: 'bert', dim: 384, numLayers: 12, numHeads: 12, ffnDim: 1536, contextLength: 512, pooling: 'cls' });
    const tok = await Tokenizer.fromGGUF(bytes);
    const texts = ['What is the capital of France?', 'Paris is the capital and largest city of France.'];
    const seqs = texts.map((t) => Int32Array.from(tok.encode(t)));
    const got = await runner.embed({ sequences: seqs });
    expect(got.map((v) => v.length)).toEqual([384, 384]);
    expect(got.every((v) => v.every(Number.isFinite))).toBe(true);
    expect(cosine(got[0], await oracle.embed(Array.from(seqs[0])))).toBeGreaterThanOrEqual(0.9999);
  } finally {
    runner.destroy();
    await oracle.dispose();
  }
});
