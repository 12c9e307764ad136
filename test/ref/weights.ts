// Weights of the float64 reference model: every tensor of a GGUF dequantized to a
// Float64Array, grouped per layer. ggml layout: a 2-D tensor with GGUF shape [ne0, ne1] is
// ne1 rows of ne0 contiguous values, so a matmul weight is [out = ne1][in = ne0] row-major.

import { modelConfigFromGGUF } from '../../src/model/config';
import type { ModelConfig } from '../../src/model/config';
import { ropeFactorTensor } from '../../src/model/rope-scaling';
import { readGGUF, readTensorBytes } from '../../src/model/gguf/reader';
import { isByteSource, openSource, type SourceInput } from '../../src/model/gguf/source';
import type { GGUFFile, GGUFTensorInfo } from '../../src/model/gguf/types';
import { tensorToFloat64 } from './dequant';

export interface RefLayerWeights {
  attnNorm: Float64Array; // [dim]
  // Separate projections (llama, qwen2, qwen3), or one fused wqkv (phi3).
  wq?: Float64Array; // [numHeads * headDim, dim]
  wk?: Float64Array; // [numKvHeads * headDim, dim]
  wv?: Float64Array; // [numKvHeads * headDim, dim]
  wqkv?: Float64Array; // [(numHeads + 2 numKvHeads) * headDim, dim]
  bq?: Float64Array; // [numHeads * headDim]        qwen2
  bk?: Float64Array; // [numKvHeads * headDim]      qwen2
  bv?: Float64Array; // [numKvHeads * headDim]      qwen2
  bqkv?: Float64Array; // [(numHeads + 2 numKvHeads) * headDim]
  qNorm?: Float64Array; // [headDim]  qwen3
  kNorm?: Float64Array; // [headDim]  qwen3
  wo: Float64Array; // [dim, numHeads * headDim]
  ffnNorm: Float64Array; // [dim]
  attnPostNorm?: Float64Array; // [dim]  gemma2/3
  ffnPostNorm?: Float64Array; // [dim]
  wGate?: Float64Array; // [ffnDim, dim]   (absent when fused)
  wUp: Float64Array; // [ffnDim, dim], or [2 ffnDim, dim] = gate rows then up rows (phi3)
  wDown: Float64Array; // [dim, ffnDim]
}

export interface RefWeights {
  tokenEmbedding: Float64Array; // [vocabSize, dim]
  layers: RefLayerWeights[];
  outputNorm: Float64Array; // [dim]
  output: Float64Array; // [vocabSize, dim]  (the embedding itself when tied)
  ropeFreqFactors?: Float64Array; // [ropeDim / 2]  divisor of each pair's frequency: Llama 3 rope_freqs, or phi3 LongRoPE's long/short table
}

export interface LoadedRefModel {
  file: GGUFFile;
  config: ModelConfig;
  weights: RefWeights;
}

/** Reads the header, derives the config and dequantizes every tensor the forward pass uses. */
export async function loadRefWeights(input: SourceInput): Promise<LoadedRefModel> {
  // One open source for all tensor reads (a path would otherwise be reopened per tensor).
  const owned = !isByteSource(input);
  const source = await openSource(input);
  try {
    const file = await readGGUF(source);
    const config = modelConfigFromGGUF(file);
    const byName = new Map<string, GGUFTensorInfo>(file.tensors.map((t) => [t.name, t]));
    const load = async (name: string): Promise<Float64Array> => {
      const info = byName.get(name);
      if (!info) throw new Error(`reference model: tensor ${name} is missing`);
      const numElements = info.shape.reduce((a, b) => a * b, 1);
      return tensorToFloat64(info.type, await readTensorBytes(source, info), numElements);
    };
    const loadIf = async (name: string) => (byName.has(name) ? load(name) : undefined);

    const tokenEmbedding = await load('token_embd.weight');
    const layers: RefLayerWeights[] = [];
    for (let l = 0; l < config.numLayers; l++) {
      const p = `blk.${l}.`;
      layers.push({
        attnNorm: await load(`${p}attn_norm.weight`),
        wq: await loadIf(`${p}attn_q.weight`),
        wk: await loadIf(`${p}attn_k.weight`),
        wv: await loadIf(`${p}attn_v.weight`),
        wqkv: await loadIf(`${p}attn_qkv.weight`),
        bq: await loadIf(`${p}attn_q.bias`),
        bk: await loadIf(`${p}attn_k.bias`),
        bv: await loadIf(`${p}attn_v.bias`),
        bqkv: await loadIf(`${p}attn_qkv.bias`),
        qNorm: await loadIf(`${p}attn_q_norm.weight`),
        kNorm: await loadIf(`${p}attn_k_norm.weight`),
        wo: await load(`${p}attn_output.weight`),
        ffnNorm: await load(`${p}ffn_norm.weight`),
        wGate: await loadIf(`${p}ffn_gate.weight`),
        wUp: await load(`${p}ffn_up.weight`),
        wDown: await load(`${p}ffn_down.weight`),
        attnPostNorm: await loadIf(`${p}post_attention_norm.weight`),
        ffnPostNorm: await loadIf(`${p}post_ffw_norm.weight`),
      });
    }
    const outputNorm = await load('output_norm.weight');
    const output = config.tiedEmbeddings ? tokenEmbedding : await load('output.weight');
    const factorTensor = ropeFactorTensor(config);
    const ropeFreqFactors = factorTensor ? await load(factorTensor) : undefined;
    return { file, config, weights: { tokenEmbedding, layers, outputNorm, output, ropeFreqFactors } };
  } finally {
    if (owned) await source.close?.();
  }
}
