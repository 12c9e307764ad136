// The whole stack on the GPU runner: createEngine on stories260K in Node (Dawn) answers a
// greedy completion from BOS with llama2.c's reference text (reference-greedy.txt, case 1:
// the text between the `-----8<-----` lines, without run.c's final newline).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';

const STORIES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K');

function case1Text(): string {
  const text = readFileSync(resolve(STORIES, 'reference-greedy.txt'), 'utf8');
  const start = text.indexOf('-----8<-----\n') + '-----8<-----\n'.length;
  const end = text.indexOf('\n-----8<-----', start);
  return text.slice(start, end);
}

describe('createEngine on the WebGPU runner', () => {
  it('completes from BOS with llama2.c\'s greedy text (stories260K, 256 tokens)', async () => {
    const engine = await createEngine({ model: resolve(STORIES, 'stories260K.gguf'), gpu: await createNodeGPU(), kvCacheBytes: 2 << 20 });
    try {
      const r = await engine.completions.create({ prompt: '', max_tokens: 256, temperature: 0 });
      const expected = case1Text();
      expect(expected.length).toBeGreaterThan(500);
      expect(r.choices[0]!.text).toBe(expected);
      expect(r.choices[0]!.finish_reason).toBe('length');
      expect(r.usage!.completion_tokens).toBe(256);
    } finally {
      await engine.destroy();
    }
  }, 1_500_000);
});
