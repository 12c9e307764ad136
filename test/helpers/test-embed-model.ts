// Random BERT-family embedding models (bert, nomic-bert) as GGUF bytes that llama.cpp loads:
// the metadata and tensor names convert_hf_to_gguf writes for them, the bge WordPiece
// vocabulary read from the llama.cpp vocab fixture (never copied into the repo), and weights
// from a seeded PRNG (2-D weights in the requested type, norms, biases, token types and
// positions F32). Also the bge-small-shaped model the embeddings benchmark loads.
//
// Weight scales: matmul weights N(0, 1/in) keep projections at RMS ~1; every sub-block ends
// in a LayerNorm, so depth does not blow activations up. LayerNorm weights 1 + N(0, 0.1²),
// biases N(0, 0.1²); token_embd and position_embd N(0, 1), token_types N(0, 0.5²).
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGGUF } from '../../src/model/gguf/reader';
import { GGMLType, GGUFValueType, type GGUFFile } from '../../src/model/gguf/types';
import { writeGGUF, type MetaInput, type TensorInput } from '../../src/model/gguf/writer';
import { Rng, weightTypeFor, type TestQuant } from './test-model';

export const BGE_VOCAB_GGUF = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/llama-cpp-vocab/ggml-vocab-bert-bge.gguf');

export interface EmbedModelOptions {
  arch: 'bert' | 'nomic-bert';
  dim: number;
  layers: number;
  heads: number;
  ffn: number;
  quant: TestQuant;
  seed: number;
  /** `<arch>.pooling_type` (llama.cpp enum: 1 mean, 2 cls, 3 last); written as given, so bad values can be tested. */
  pooling: number;
  contextLength?: number;
  layerNormEps?: number;
  /** nomic-bert's `rope.freq_base` (nomic-embed writes 1000). */
  ropeTheta?: number;
  /** Write `tokenizer.ggml.token_type_count` (default true; llama.cpp refuses a file without it). */
  tokenTypeCount?: boolean;
  omitTensors?: string[];
}

const FILE_TYPES: Partial<Record<TestQuant, number>> = { F32: 0, F16: 1, Q8_0: 7, Q4_0: 2 };

interface VocabKeys {
  metadata: Record<string, MetaInput>;
  metadataTypes: GGUFFile['metadataTypes'];
}
let bgeVocab: Promise<VocabKeys> | undefined;

/** The `tokenizer.*` keys of llama.cpp's ggml-vocab-bert-bge.gguf fixture (30522 WordPiece tokens), with their GGUF types. */
export function bgeTokenizer(): Promise<VocabKeys> {
  bgeVocab ??= readGGUF(BGE_VOCAB_GGUF).then((file) => {
    const metadata: Record<string, MetaInput> = {};
    const metadataTypes: GGUFFile['metadataTypes'] = {};
    for (const [key, value] of Object.entries(file.metadata)) {
      if (!key.startsWith('tokenizer.')) continue;
      metadata[key] = value as MetaInput;
      if (file.metadataTypes?.[key]) metadataTypes[key] = file.metadataTypes[key];
    }
    return { metadata, metadataTypes };
  });
  return bgeVocab;
}

export const BGE_VOCAB_SIZE = 30522;

/** A complete GGUF (bytes) for a random bert / nomic-bert model; equal options give equal bytes. */
export async function makeEmbedModel(o: EmbedModelOptions): Promise<Uint8Array> {
  const { arch, dim, ffn } = o;
  const headDim = dim / o.heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error(`dim ${dim} / heads ${o.heads} must be an even integer`);
  const ctx = o.contextLength ?? 128;
  const rng = new Rng(o.seed);
  const u32 = (value: number) => ({ type: GGUFValueType.UINT32, value });
  const f32 = (value: number) => ({ type: GGUFValueType.FLOAT32, value });
  const vocab = await bgeTokenizer();
  const metadata: Record<string, MetaInput> = {
    'general.architecture': arch,
    'general.name': `tabllm-test-${arch}`,
    'general.file_type': u32(FILE_TYPES[o.quant] ?? 0),
    [`${arch}.context_length`]: u32(ctx),
    [`${arch}.embedding_length`]: u32(dim),
    [`${arch}.feed_forward_length`]: u32(ffn),
    [`${arch}.block_count`]: u32(o.layers),
    [`${arch}.attention.head_count`]: u32(o.heads),
    [`${arch}.attention.layer_norm_epsilon`]: f32(o.layerNormEps ?? 1e-12),
    [`${arch}.attention.causal`]: false,
    [`${arch}.pooling_type`]: u32(o.pooling),
    ...vocab.metadata,
  };
  if (arch === 'nomic-bert') metadata[`${arch}.rope.freq_base`] = f32(o.ropeTheta ?? 1000);
  if (o.tokenTypeCount === false) delete metadata['tokenizer.ggml.token_type_count'];

  const tensors: TensorInput[] = [];
  const weight = (name: string, inDim: number, outDim: number, std: number) =>
    tensors.push({ name, type: weightTypeFor(o.quant, inDim), shape: [inDim, outDim], data: rng.normalArray(inDim * outDim, std) });
  const f32Tensor = (name: string, shape: number[], mean: number, std: number) =>
    tensors.push({ name, type: GGMLType.F32, shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1), std, mean) });
  const norm = (name: string) => {
    f32Tensor(`${name}.weight`, [dim], 1, 0.1);
    f32Tensor(`${name}.bias`, [dim], 0, 0.1);
  };

  weight('token_embd.weight', dim, BGE_VOCAB_SIZE, 1);
  f32Tensor('token_types.weight', [dim, 2], 0, 0.5);
  if (arch === 'bert') f32Tensor('position_embd.weight', [dim, ctx], 0, 1);
  norm('token_embd_norm');
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}.`;
    if (arch === 'bert') {
      for (const t of ['q', 'k', 'v']) {
        weight(`${p}attn_${t}.weight`, dim, dim, 1 / Math.sqrt(dim));
        f32Tensor(`${p}attn_${t}.bias`, [dim], 0, 0.1);
      }
    } else {
      weight(`${p}attn_qkv.weight`, dim, 3 * dim, 1 / Math.sqrt(dim));
    }
    weight(`${p}attn_output.weight`, dim, dim, 1 / Math.sqrt(dim));
    if (arch === 'bert') f32Tensor(`${p}attn_output.bias`, [dim], 0, 0.1);
    norm(`${p}attn_output_norm`);
    if (arch === 'nomic-bert') weight(`${p}ffn_gate.weight`, dim, ffn, 1 / Math.sqrt(dim));
    weight(`${p}ffn_up.weight`, dim, ffn, 1 / Math.sqrt(dim));
    if (arch === 'bert') f32Tensor(`${p}ffn_up.bias`, [ffn], 0, 0.1);
    weight(`${p}ffn_down.weight`, ffn, dim, 1 / Math.sqrt(ffn));
    if (arch === 'bert') f32Tensor(`${p}ffn_down.bias`, [dim], 0, 0.1);
    norm(`${p}layer_output_norm`);
  }
  const omit = new Set(o.omitTensors ?? []);
  return writeGGUF({ metadata, metadataTypes: vocab.metadataTypes, tensors: tensors.filter((t) => !omit.has(t.name)) });
}

/** bge-small-en-v1.5's shape: 12 layers, hidden 384, 12 heads, FFN 1536, 512 positions, the bge vocabulary, CLS pooling. */
export const BGE_SMALL_SHAPE = { arch: 'bert', dim: 384, layers: 12, heads: 12, ffn: 1536, contextLength: 512, pooling: 2 } as const;

/** Writes a random bge-small-shaped model (random weights, real vocabulary) to `path` (the embeddings benchmark's model). */
export async function writeBgeSmallModel(path: string, quant: TestQuant = 'F16', seed = 17): Promise<void> {
  await writeFile(path, await makeEmbedModel({ ...BGE_SMALL_SHAPE, quant, seed }));
}
