// The engine over the real WebGPU runners (SwiftShader here): a generated bert model (CLS
// pooling) beside a generated qwen2 chat model in one createEngine({ models }). Embeddings
// through the router equal the runner's own pooled vector, normalised, for the tokens the
// WordPiece tokenizer gives; dimensions and base64 hold on real vectors; chat and embeddings
// interleaved give what each model gives alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../src/api/router';
import { createEngine } from '../../src/create-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { base64ToFloat32 } from '../../src/openai/embeddings';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { makeEmbedModel } from '../helpers/test-embed-model';
import { makeTestModel } from '../helpers/test-model';
import { loadEmbedRunner, type EmbedRunner } from './embed-harness';

let engine: MultiEngine;
let runner: EmbedRunner;
let bertBytes: Uint8Array;
const TEXTS = ['the quick brown fox', 'jumps over the lazy dog', 'WebGPU embeddings!'];

beforeAll(async () => {
  bertBytes = await makeEmbedModel({ arch: 'bert', dim: 64, layers: 2, heads: 4, ffn: 96, quant: 'F32', seed: 77, pooling: 2, contextLength: 64 });
  const chatBytes = makeTestModel({ arch: 'qwen2', vocab: 512, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, quant: 'Q8_0', seed: 11 });
  engine = await createEngine({ models: [{ model: chatBytes, modelId: 'chat' }, { model: bertBytes, modelId: 'bge-tiny' }], gpu: await createNodeGPU(), kvCacheBytes: 1 << 20 });
  runner = await loadEmbedRunner(bertBytes);
});
afterAll(async () => {
  runner?.destroy();
  await engine?.destroy();
});

const unit = (v: Float32Array) => {
  const n = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  return Array.from(v).map((x) => x / n);
};

async function post(path: string, body: unknown): Promise<any> {
  const res = await createRouter(engine)(new Request(`http://localhost:8000${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  expect(res.status).toBe(200);
  return res.json();
}

describe('embeddings on the WebGPU runner, in a two-model engine', () => {
  it('the bert model is an embedding model, the chat model is not', async () => {
    expect(await engine.info('bge-tiny')).toMatchObject({ task: 'embed', embeddingDim: 64, arch: 'bert', contextLength: 64 });
    expect((await engine.info('chat')).task).toBeUndefined();
    const s = await engine.stats();
    expect(s.models!.map((m) => [m.id, m.task, m.kvCacheBytes])).toEqual([['chat', 'generate', 1 << 20], ['bge-tiny', 'embed', 0]]);
  });

  it('/v1/embeddings equals the runner\'s pooled vector, normalised, for the WordPiece tokens ([CLS] … [SEP])', async () => {
    const r = await post('/v1/embeddings', { model: 'bge-tiny', input: TEXTS });
    for (const [i, text] of TEXTS.entries()) {
      const ids = (await engine.tokenize({ model: 'bge-tiny', prompt: text })).tokens;
      expect(ids[0]).toBe(101); // [CLS]
      expect(ids[ids.length - 1]).toBe(102); // [SEP]
      const [pooled] = await runner.embed({ sequences: [Int32Array.from(ids)] });
      const want = unit(pooled!);
      // The same kernels on the same device: batch-invariant, so equal to f32 rounding of the normalisation.
      r.data[i].embedding.forEach((x: number, k: number) => expect(x).toBeCloseTo(want[k]!, 6));
    }
  });

  it('dimensions and base64 on real vectors', async () => {
    const full = (await post('/v1/embeddings', { model: 'bge-tiny', input: TEXTS[0] })).data[0].embedding as number[];
    const cut = (await post('/v1/embeddings', { model: 'bge-tiny', input: TEXTS[0], dimensions: 16 })).data[0].embedding as number[];
    const head = full.slice(0, 16);
    const n = Math.sqrt(head.reduce((s, x) => s + x * x, 0));
    cut.forEach((x, k) => expect(x).toBeCloseTo(head[k]! / n, 6));
    const b64 = (await post('/v1/embeddings', { model: 'bge-tiny', input: TEXTS[0], encoding_format: 'base64' })).data[0].embedding as string;
    expect(Array.from(base64ToFloat32(b64))).toEqual(full.map((x) => Math.fround(x)));
  });

  it('chat and embeddings interleaved (4 concurrent each) equal each alone', async () => {
    const chat = (i: number) => ({ model: 'chat', prompt: `story ${i}`, max_tokens: 4, temperature: 0 });
    const alone = [];
    for (let i = 0; i < 4; i++) alone.push([(await engine.completions.create(chat(i))).choices[0]!.text, (await engine.embeddings.create({ model: 'bge-tiny', input: TEXTS[i % 3]! })).data[0]!.embedding]);
    const mixed = await Promise.all(Array.from({ length: 4 }, async (_, i) => Promise.all([
      engine.completions.create(chat(i)).then((r) => r.choices[0]!.text),
      engine.embeddings.create({ model: 'bge-tiny', input: TEXTS[i % 3]! }).then((r) => r.data[0]!.embedding),
    ])));
    expect(mixed).toEqual(alone);
  });
});
