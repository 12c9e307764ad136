// readGGUF on real files: stories260K (llama, all F32) and llama.cpp's vocab-only GGUFs.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GGMLType, GGUFValueType, readGGUF, readTensorBytes, dequantize } from '../../../src/model/gguf';
import { STORIES_GGUF, vocabGGUF } from './fixtures';

describe('stories260K.gguf', () => {
  it('has the llama hyper-parameters and the 48 F32 tensors', async () => {
    const gguf = await readGGUF(STORIES_GGUF);
    expect(gguf.version).toBe(3);
    expect(gguf.alignment).toBe(32);
    expect(gguf.fileSize).toBe(1185376);
    const m = gguf.metadata;
    expect(m['general.architecture']).toBe('llama');
    expect(m['llama.block_count']).toBe(5);
    expect(m['llama.embedding_length']).toBe(64);
    expect(m['llama.feed_forward_length']).toBe(172);
    expect(m['llama.attention.head_count']).toBe(8);
    expect(m['llama.attention.head_count_kv']).toBe(4);
    expect(m['llama.context_length']).toBe(2048);
    expect(m['llama.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-5, 10);
    expect(gguf.metadataTypes!['llama.block_count']).toEqual({ type: GGUFValueType.UINT32 });
    expect((m['tokenizer.ggml.tokens'] as string[]).length).toBe(512);
    expect((m['tokenizer.ggml.tokens'] as string[]).slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(m['tokenizer.ggml.scores']).toBeInstanceOf(Float32Array);
    expect(m['tokenizer.ggml.token_type']).toBeInstanceOf(Int32Array);

    expect(gguf.tensors).toHaveLength(2 + 1 + 5 * 9);
    expect(gguf.tensors.every((t) => t.type === GGMLType.F32)).toBe(true);
    const byName = new Map(gguf.tensors.map((t) => [t.name, t]));
    expect(byName.get('token_embd.weight')!.shape).toEqual([64, 512]);
    expect(byName.get('output.weight')!.shape).toEqual([64, 512]);
    expect(byName.get('output_norm.weight')!.shape).toEqual([64]);
    for (let layer = 0; layer < 5; layer++) {
      const shapes = Object.fromEntries(
        ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_down', 'ffn_up'].map((n) => [n, byName.get(`blk.${layer}.${n}.weight`)?.shape]),
      );
      expect(shapes).toEqual({
        attn_norm: [64], attn_q: [64, 64], attn_k: [64, 32], attn_v: [64, 32], attn_output: [64, 64],
        ffn_norm: [64], ffn_gate: [64, 172], ffn_down: [172, 64], ffn_up: [64, 172],
      });
    }
    for (const t of gguf.tensors) {
      expect(t.offset % 32).toBe(0);
      expect(t.byteLength).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
    }
    // The last tensor ends exactly at the end of the file.
    const end = Math.max(...gguf.tensors.map((t) => t.offset + t.byteLength));
    expect(end).toBe(gguf.fileSize);
  });

  it('stores output.weight with the same bytes as token_embd.weight', async () => {
    const gguf = await readGGUF(STORIES_GGUF);
    const embd = gguf.tensors.find((t) => t.name === 'token_embd.weight')!;
    const out = gguf.tensors.find((t) => t.name === 'output.weight')!;
    const [a, b] = await Promise.all([readTensorBytes(STORIES_GGUF, embd), readTensorBytes(STORIES_GGUF, out)]);
    expect(a.byteLength).toBe(131072);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // Matches the llama2.c checkpoint derived from this file: 28-byte header, then token_embd.
    const bin = await readFile(STORIES_GGUF.replace('.gguf', '.bin'));
    expect(Buffer.from(a).equals(bin.subarray(28, 28 + 131072))).toBe(true);
    const values = dequantize(GGMLType.F32, a);
    expect(values[0]).toBe(bin.readFloatLE(28));
  });

  it('reads the same header from memory, from a Blob and from a path', async () => {
    const bytes = new Uint8Array(await readFile(STORIES_GGUF));
    const [fromPath, fromMemory, fromBlob] = await Promise.all([readGGUF(STORIES_GGUF), readGGUF(bytes), readGGUF(new Blob([bytes]))]);
    expect(fromMemory).toEqual(fromPath);
    expect(fromBlob).toEqual(fromPath);
  });
});

describe('llama.cpp vocab-only GGUFs', () => {
  const cases = [
    { name: 'llama-spm', model: 'llama', count: 32000, first: '<unk>', merges: false },
    { name: 'phi-3', model: 'llama', count: 32064, first: '<unk>', merges: false },
    { name: 'gpt-2', model: 'gpt2', count: 50257, first: '!', merges: true },
    { name: 'deepseek-llm', model: 'gpt2', count: 102400, first: undefined, merges: true },
  ];
  for (const c of cases) {
    it(`reads ${c.name}: ${c.count} token strings, no tensors`, async () => {
      const gguf = await readGGUF(vocabGGUF(c.name));
      expect(gguf.tensors).toEqual([]);
      expect(gguf.metadata['tokenizer.ggml.model']).toBe(c.model);
      const tokens = gguf.metadata['tokenizer.ggml.tokens'] as string[];
      expect(tokens).toHaveLength(c.count);
      expect(tokens.every((t) => typeof t === 'string')).toBe(true);
      if (c.first !== undefined) expect(tokens[0]).toBe(c.first);
      expect(gguf.metadataTypes!['tokenizer.ggml.tokens']).toEqual({ type: GGUFValueType.ARRAY, arrayType: GGUFValueType.STRING });
      expect((gguf.metadata['tokenizer.ggml.token_type'] as Int32Array).length).toBe(c.count);
      if (c.merges) expect((gguf.metadata['tokenizer.ggml.merges'] as string[]).length).toBeGreaterThan(1000);
    });
  }

  it('decodes SentencePiece byte tokens and the ▁ prefix in llama-spm', async () => {
    const tokens = (await readGGUF(vocabGGUF('llama-spm'))).metadata['tokenizer.ggml.tokens'] as string[];
    expect(tokens[3]).toBe('<0x00>');
    expect(tokens.indexOf('▁the')).toBeGreaterThan(258);
  });
});
