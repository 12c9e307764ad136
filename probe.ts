import { makeTestModel } from './test/helpers/test-model';
import { openLlamaCpp } from './test/helpers/llama-cpp-oracle';
import { RefModel } from './test/ref/ref-model';
const PROMPT = Array.from({ length: 44 }, (_, i) => 3 + ((i * 37) % 290));
for (const [arch, scaling] of [
  ['llama', { type: 'linear', factor: 4 }],
  ['qwen2', { type: 'yarn', factor: 4, originalContextLength: 32 }],
  ['qwen3', { type: 'yarn', factor: 8, originalContextLength: 32, attnFactor: 0.9 }],
  ['phi3', { type: 'linear', factor: 2, attnFactor: 1.1 }],
] as const) {
  const opts = { arch, vocab: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'F32', seed: 11, contextLength: 128, tiedEmbeddings: false, name: 'tiny', ropeTheta: 10000 } as const;
  const bytes = makeTestModel({ ...opts, ropeScaling: scaling });
  const plain = makeTestModel({ ...opts });
  const lc = await openLlamaCpp(bytes);
  const a = await lc.greedy(PROMPT, 32);
  await lc.dispose();
  const r = (await RefModel.fromGGUF(bytes, 128)).greedy(PROMPT, 32);
  const r0 = (await RefModel.fromGGUF(plain, 128)).greedy(PROMPT, 32);
  const same = (x: number[], y: number[]) => x.filter((v, i) => v === y[i]).length;
  console.log(arch, scaling.type, 'ref==llama', same(a.ids, r), 'unscaled==llama', same(a.ids, r0), 'minMargin', Math.min(...a.margins).toFixed(3));
}
