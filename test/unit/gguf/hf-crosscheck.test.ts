// Cross-check: @huggingface/gguf (an independent parser) reads files made by writeGGUF with
// the same metadata, value types, tensor infos and data offset that readGGUF reports.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf as hfGGUF } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGMLType, GGUFValueType as V, readGGUF, writeGGUF, type WriteGGUFInput } from '../../../src/model/gguf';
import { quantTestData } from './quant-data';
import { STORIES_GGUF, vocabGGUF } from './fixtures';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tabllm-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Plain JSON-like form: typed arrays -> arrays, safe bigints -> numbers. A leading U+FEFF is
 * dropped because @huggingface/gguf decodes with TextDecoder's default, which strips a BOM
 * (gpt-2's vocab has the BOM as a token; readGGUF keeps it).
 */
function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/^\uFEFF/, '');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value ? Number(value) : `${value}n`;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<unknown>, normalize);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

async function compareWithHF(path: string): Promise<void> {
  const ours = await readGGUF(path);
  const theirs = await hfGGUF(path, { allowLocalFile: true, typedMetadata: true });
  expect(Number(theirs.metadata.version)).toBe(ours.version);
  expect(Number(theirs.tensorDataOffset)).toBe(ours.dataOffset);
  const { version, tensor_count, kv_count, ...theirMetadata } = theirs.metadata as unknown as Record<string, unknown>;
  expect(Number(tensor_count)).toBe(ours.tensors.length);
  expect(Number(kv_count)).toBe(Object.keys(ours.metadata).length);
  expect(normalize(theirMetadata)).toEqual(normalize({ ...ours.metadata }));
  for (const key of Object.keys(ours.metadata)) {
    const typed = (theirs.typedMetadata as Record<string, { type: V; subType?: V }>)[key];
    const mine = ours.metadataTypes![key];
    expect({ key, type: typed.type, subType: typed.subType }).toEqual({ key, type: mine.type, subType: mine.arrayType });
  }
  expect(
    theirs.tensorInfos.map((t) => ({ name: t.name, type: t.dtype as number, shape: t.shape.map(Number), offset: Number(theirs.tensorDataOffset + t.offset) })),
  ).toEqual(ours.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape, offset: t.offset })));
}

const x = quantTestData(0, 512, 11);
const FILES: Record<string, WriteGGUFInput> = {
  'every tensor type, v3': {
    metadata: { 'general.architecture': 'llama', 'llama.block_count': { type: V.UINT32, value: 2 }, 'general.name': 'crosscheck' },
    tensors: [
      GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.IQ4_NL,
      GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_XS,
    ].map((type, i) => ({
      name: `blk.${i}.weight`, type, shape: [256, 2], data: x,
    })),
  },
  'many metadata types, v2, alignment 64': {
    version: 2,
    alignment: 64,
    metadata: {
      'general.architecture': 'qwen2',
      'test.u8': { type: V.UINT8, value: 200 },
      'test.i8': { type: V.INT8, value: -100 },
      'test.u16': { type: V.UINT16, value: 60000 },
      'test.i16': { type: V.INT16, value: -30000 },
      'test.i32': -5,
      'test.u32': 3000000000,
      'test.f32': 0.125,
      'test.bool': true,
      'test.u64': { type: V.UINT64, value: 2n ** 63n + 5n },
      'test.i64': { type: V.INT64, value: -(2 ** 40) },
      'test.f64': { type: V.FLOAT64, value: 1 / 3 },
      'tokenizer.ggml.tokens': ['<s>', '</s>', '▁héllo', '🦙', ''],
      'tokenizer.ggml.scores': { type: V.ARRAY, arrayType: V.FLOAT32, value: [0, -1.5, -2.25, -3, 0.5] },
      'tokenizer.ggml.token_type': { type: V.ARRAY, arrayType: V.INT32, value: [3, 3, 1, 1, 6] },
      'test.nested': [[1, 2], [3]],
      'test.bools': [false, true],
    },
    tensors: [{ name: 'token_embd.weight', type: GGMLType.Q8_0, shape: [32, 5], data: quantTestData(1, 160, 2) }],
  },
  'no tensors': { metadata: { 'general.architecture': 'llama', 'tokenizer.ggml.model': 'gpt2' } },
};

describe('@huggingface/gguf agrees with readGGUF', () => {
  for (const [name, input] of Object.entries(FILES)) {
    it(`on a written file: ${name}`, async () => {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
      await writeFile(path, writeGGUF(input));
      await compareWithHF(path);
    });
  }

  it('on stories260K.gguf and vocab-only GGUFs (SentencePiece and byte-level BPE strings)', async () => {
    await compareWithHF(STORIES_GGUF);
    await compareWithHF(vocabGGUF('llama-spm'));
    await compareWithHF(vocabGGUF('gpt-2'));
  });
});
