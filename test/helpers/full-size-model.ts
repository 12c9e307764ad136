// Generated models with the exact tensor shapes of real small models (Qwen2.5-0.5B-Instruct,
// Llama-3.2-1B), in a Q4_K_M-style mix of Q4_K / Q6_K / Q8_0, written to a file in the OS
// temp folder (hundreds of MB: never committed, regenerated when missing).
//
// The bytes are random quant blocks with chosen scales, not quantized floats (quantizing
// half a billion values in JS would take minutes): every bit pattern is a valid block, and
// the scales make each weight roughly N(0, 1/in) with zero mean, so activations stay O(1)
// through every layer:
//   Q8_0  d·q, q uniform int8 (std 73.9)                    d = 1 / (73.9 √in)
//   Q4_K  d·sc·q − dmin·m with sc = m = 32, dmin = 7.5 d    → 32 d (q − 7.5), q std 4.61
//   Q6_K  d·sc·(q − 32), sc uniform in ±[1, 4] (rms 2.74), (q − 32) std 18.5
// Norm weights are 1 + small noise, qwen2 biases N(0, 0.5²)-like (uniform, F32).
//
// Generation runs in a child process (`node --import tsx test/helpers/full-size-model.ts
// <shape> <path>`) so the test process's RSS measures the load alone.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ggufRowBytes } from '../../src/gpu/repack';
import { readGGUF } from '../../src/model/gguf/reader';
import { MemorySource } from '../../src/model/gguf/source';
import { GGMLType, GGUFValueType } from '../../src/model/gguf/types';
import { writeGGUF, type MetaInput, type TensorInput } from '../../src/model/gguf/writer';
import { defaultTokenizer } from './test-model';

export interface FullSizeShape {
  name: string;
  arch: 'qwen2' | 'llama';
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  ropeTheta: number;
  /** Token embedding type (also the LM head: both shapes tie it). */
  embedType: GGMLType;
}

/** Qwen2.5-0.5B-Instruct: 24 layers, hidden 896, 14/2 heads of 64, FFN 4864, vocab 151,936, tied. */
export const QWEN25_05B: FullSizeShape = {
  name: 'qwen2.5-0.5b', arch: 'qwen2', vocab: 151936, dim: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864,
  ropeTheta: 1_000_000, embedType: GGMLType.Q8_0,
};

/** Llama-3.2-1B: 16 layers, hidden 2048, 32/8 heads of 64, FFN 8192, vocab 128,256, tied. */
export const LLAMA32_1B: FullSizeShape = {
  name: 'llama3.2-1b', arch: 'llama', vocab: 128256, dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192,
  ropeTheta: 500_000, embedType: GGMLType.Q6_K,
};

const SHAPES: Record<string, FullSizeShape> = { [QWEN25_05B.name]: QWEN25_05B, [LLAMA32_1B.name]: LLAMA32_1B };

/** llama.cpp's Q4_K_M rule (use_more_bits) for attn_v / ffn_down; rows not a multiple of 256 fall back to Q8_0. */
function weightType(name: string, inDim: number, layers: number): GGMLType {
  if (inDim % 256 !== 0) return GGMLType.Q8_0;
  const match = /^blk\.(\d+)\.(attn_v|ffn_down)\.weight$/.exec(name);
  if (!match) return GGMLType.Q4_K;
  const layer = Number(match[1]);
  const eighth = Math.floor(layers / 8);
  const moreBits = layer < eighth || layer >= Math.floor((7 * layers) / 8) || (layer - eighth) % 3 === 2;
  return moreBits ? GGMLType.Q6_K : GGMLType.Q4_K;
}

/** Deterministic xorshift32 words. */
class Words {
  constructor(private s: number) {}
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  fill(bytes: Uint8Array): void {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.next();
    for (let i = words.length * 4; i < bytes.length; i++) bytes[i] = this.next() & 0xff;
  }
  uniform(): number {
    return this.next() / 2 ** 32;
  }
}

function f16Bits(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0 || exp >= 31) throw new Error(`f16Bits: ${v} out of the normal f16 range`);
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

/** Random quant blocks of `type` (scales as in the header comment) for weights of std `std`. */
function fillWeight(bytes: Uint8Array, type: GGMLType, std: number, rng: Words): void {
  rng.fill(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === GGMLType.Q8_0) {
    const d = f16Bits(std / 73.9);
    for (let o = 0; o < bytes.length; o += 34) dv.setUint16(o, d, true);
  } else if (type === GGMLType.Q4_K) {
    const d = std / (32 * 4.61);
    const dBits = f16Bits(d);
    const dminBits = f16Bits(7.5 * d);
    for (let o = 0; o < bytes.length; o += 144) {
      dv.setUint16(o, dBits, true);
      dv.setUint16(o + 2, dminBits, true);
      // get_scale_min_k4: bytes 0..3 / 4..7 hold sc / m of sub-blocks 0..3 in their low 6 bits
      // and bits 4..5 of sub-blocks 4..7's in their top 2 bits; bytes 8..11 the low nibbles.
      // 0xA0 = 0b10_100000 and 0 give sc = m = 32 for all eight.
      for (let j = 0; j < 8; j++) bytes[o + 4 + j] = 0xa0;
      for (let j = 8; j < 12; j++) bytes[o + 4 + j] = 0;
    }
  } else if (type === GGMLType.Q6_K) {
    const dBits = f16Bits(std / (2.74 * 18.5));
    for (let o = 0; o < bytes.length; o += 210) {
      for (let j = 0; j < 16; j++) {
        const mag = 1 + (bytes[o + 192 + j] & 3);
        bytes[o + 192 + j] = (bytes[o + 192 + j] & 4 ? -mag : mag) & 0xff;
      }
      dv.setUint16(o + 208, dBits, true);
    }
  } else {
    throw new Error(`fillWeight: no generator for ${GGMLType[type]}`);
  }
}

interface Planned {
  info: TensorInput;
  fill: (bytes: Uint8Array) => void;
}

function plan(shape: FullSizeShape, seed: number): { metadata: Record<string, MetaInput>; tensors: Planned[] } {
  const { arch, dim, vocab, layers } = shape;
  const headDim = dim / shape.heads;
  const qDim = shape.heads * headDim;
  const kvDim = shape.kvHeads * headDim;
  const u32 = (value: number) => ({ type: GGUFValueType.UINT32, value });
  const f32 = (value: number) => ({ type: GGUFValueType.FLOAT32, value });
  const metadata: Record<string, MetaInput> = {
    'general.architecture': arch,
    'general.name': `full-size-${shape.name}-seed${seed}`,
    'general.file_type': u32(15), // Q4_K_M
    'general.quantization_version': u32(2),
    [`${arch}.context_length`]: u32(4096),
    [`${arch}.embedding_length`]: u32(dim),
    [`${arch}.block_count`]: u32(layers),
    [`${arch}.feed_forward_length`]: u32(shape.ffn),
    [`${arch}.attention.head_count`]: u32(shape.heads),
    [`${arch}.attention.head_count_kv`]: u32(shape.kvHeads),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(1e-6),
    [`${arch}.rope.freq_base`]: f32(shape.ropeTheta),
    [`${arch}.rope.dimension_count`]: u32(headDim),
    ...defaultTokenizer(vocab),
  };
  const rng = new Words(seed * 2654435761 + 1);
  const tensors: Planned[] = [];
  const weight = (name: string, inDim: number, outDim: number, std: number, type = weightType(name, inDim, layers)) =>
    tensors.push({ info: { name, type, shape: [inDim, outDim], data: new Uint8Array(0) }, fill: (b) => fillWeight(b, type, std, rng) });
  const vector = (name: string, length: number, mean: number, spread: number) =>
    tensors.push({
      info: { name, type: GGMLType.F32, shape: [length], data: new Uint8Array(0) },
      fill: (b) => {
        const v = new Float32Array(b.buffer, b.byteOffset, length);
        for (let i = 0; i < length; i++) v[i] = mean + spread * (2 * rng.uniform() - 1);
      },
    });
  // Embedding rows of std 0.25: tied logits then have std ≈ 0.25 √dim (7.5 to 11).
  weight('token_embd.weight', dim, vocab, 0.25, shape.embedType);
  vector('output_norm.weight', dim, 1, 0.1);
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    vector(`${p}attn_norm.weight`, dim, 1, 0.1);
    weight(`${p}attn_q.weight`, dim, qDim, 1 / Math.sqrt(dim));
    weight(`${p}attn_k.weight`, dim, kvDim, 1 / Math.sqrt(dim));
    weight(`${p}attn_v.weight`, dim, kvDim, 1 / Math.sqrt(dim));
    if (arch === 'qwen2') {
      vector(`${p}attn_q.bias`, qDim, 0, 0.8);
      vector(`${p}attn_k.bias`, kvDim, 0, 0.8);
      vector(`${p}attn_v.bias`, kvDim, 0, 0.8);
    }
    weight(`${p}attn_output.weight`, qDim, dim, 1 / Math.sqrt(qDim));
    vector(`${p}ffn_norm.weight`, dim, 1, 0.1);
    weight(`${p}ffn_gate.weight`, dim, shape.ffn, 1 / Math.sqrt(dim));
    weight(`${p}ffn_up.weight`, dim, shape.ffn, 1 / Math.sqrt(dim));
    weight(`${p}ffn_down.weight`, shape.ffn, dim, 1 / Math.sqrt(shape.ffn));
  }
  return { metadata, tensors };
}

/** Writes the model file for `shape` at `path` (this process holds the whole file once). */
export async function writeFullSizeModel(shape: FullSizeShape, path: string, seed = 1): Promise<void> {
  const { metadata, tensors } = plan(shape, seed);
  const sizes = tensors.map((t) => ggufRowBytes(t.info.type, t.info.shape[0]) * (t.info.shape[1] ?? 1));
  // writeGGUF lays the header and the aligned data out; the data are views of one zero
  // buffer, overwritten in place below, so the file is built in memory only once.
  const zeros = new Uint8Array(Math.max(...sizes));
  const bytes = writeGGUF({ metadata, tensors: tensors.map((t, i) => ({ ...t.info, data: zeros.subarray(0, sizes[i]) })) });
  const file = await readGGUF(new MemorySource(bytes));
  for (let i = 0; i < tensors.length; i++) {
    const info = file.tensors[i];
    tensors[i].fill(bytes.subarray(info.offset, info.offset + info.byteLength));
  }
  writeFileSync(`${path}.part`, bytes);
  renameSync(`${path}.part`, path);
}

/** The model file of `shape` in the OS temp folder, generated by a child process when missing. */
export async function fullSizeModelPath(shape: FullSizeShape, seed = 1): Promise<string> {
  const path = join(tmpdir(), `tabllm-${shape.name}-seed${seed}-v1.gguf`);
  if (existsSync(path)) return path;
  const { spawnSync } = await import('node:child_process');
  const res = spawnSync(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', 'test/helpers/full-size-model.ts', shape.name, path, String(seed)], {
    encoding: 'utf8', timeout: 600_000,
  });
  if (res.status !== 0) throw new Error(`generating ${shape.name} failed: ${res.stderr || res.error}`);
  return path;
}

// Child process entry: node --import tsx test/helpers/full-size-model.ts <shape> <path> [seed]
if (process.argv[1]?.endsWith('full-size-model.ts') && process.argv.length >= 4) {
  const shape = SHAPES[process.argv[2]];
  if (!shape) throw new Error(`unknown shape ${process.argv[2]}`);
  await writeFullSizeModel(shape, process.argv[3], Number(process.argv[4] ?? 1));
}
