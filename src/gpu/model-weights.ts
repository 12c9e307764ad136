// Every tensor of a GGUF model on the GPU, named by role. Matrices go through
// uploadTensor (repacked, streamed by rows); vectors (norms, biases, RoPE factors) are
// dequantized on the CPU to f32, since the kernels that read them take plain f32
// (tensor-loader.ts does both).
//
// `dry: true`: the same ModelWeights with nothing read or uploaded (TensorLoader's dry
// mode): the plan the runner compiles its pipelines from before the upload.
//
// Tied embeddings: without `output.weight`, the LM head is the same GpuWeight as
// `token_embd.weight` (uploaded once).
//
// A tensor type the GPU has no layout for (IQ2/IQ3 types, MXFP4, …) refuses the whole file
// before the first upload: GGUFError `unsupported_tensor_type` naming the tensor and type
// (checked by TensorLoader).
//
// Load-time fusion (unless `fuse: false`; TensorLoader.concatenated): a layer's q, k, v weights become one wqkv
// (rows q, then k, then v, as phi3's file has them; biases likewise) and gate, up become
// one wUp of [2 ffnDim, dim] (gate rows, then up rows, as phi3's), when the tensors share
// a type and row length (and q/k/v all have biases or none). One matmul then serves
// what took three or two; each output row is the same dot product either way. A layer
// whose tensors differ (a Q4_K_M file with Q6_K attn_v) keeps them separate.
import type { ModelConfig } from '../model/config';
import type { ByteSource, GGUFFile } from '../model/gguf/types';
import { ropeTurnTable, ropeTurnTableFromFrequencies } from '../kernels/rope';
import { localRopeConfig, ropeFactorTensor, ropePairFrequencies } from '../model/rope-scaling';
import type { GpuContext } from './context';
import { TensorLoader, type WeightProgress } from './tensor-loader';
import type { GpuWeight } from './weights';

export interface LayerWeights {
  attnNorm: GPUBuffer; // [dim] f32
  /** Separate projections (llama, qwen2, qwen3). */
  wq?: GpuWeight; // [qDim, dim]
  wk?: GpuWeight; // [kvDim, dim]
  wv?: GpuWeight; // [kvDim, dim]
  bq?: GPUBuffer; // [qDim] f32 (qwen2)
  bk?: GPUBuffer; // [kvDim] f32
  bv?: GPUBuffer; // [kvDim] f32
  /** Fused projection (phi3's file, or q/k/v concatenated at load): rows q, then k, then v. */
  wqkv?: GpuWeight; // [qDim + 2 kvDim, dim]
  bqkv?: GPUBuffer; // [qDim + 2 kvDim] f32
  qNorm?: GPUBuffer; // [headDim] f32 (qwen3)
  kNorm?: GPUBuffer; // [headDim] f32
  wo: GpuWeight; // [dim, qDim]
  /** gemma2/3: RMSNorm weights of the attention and FFN outputs. */
  attnPostNorm?: GPUBuffer; // [dim] f32
  ffnPostNorm?: GPUBuffer; // [dim] f32
  ffnNorm: GPUBuffer; // [dim] f32
  /** Absent when fused (phi3's file, or concatenated at load): wUp then holds gate rows, then up rows. */
  wGate?: GpuWeight; // [ffnDim, dim]
  wUp: GpuWeight; // [ffnDim, dim] or [2 ffnDim, dim] fused
  wDown: GpuWeight; // [dim, ffnDim]
}

export interface ModelWeights {
  tokenEmbedding: GpuWeight; // [vocab, dim]
  layers: LayerWeights[];
  outputNorm: GPUBuffer; // [dim] f32
  /** The LM head; the token embedding itself when tied. */
  output: GpuWeight; // [vocab, dim]
  /** [ropeDim / 2, 2] u32 turns per position (rope.ts), Llama 3 freq factors and RoPE scaling applied. */
  ropeTurns: GPUBuffer;
  /** The local (sliding-window) layers' table when their RoPE base or scaling differs (gemma3); else ropeTurns itself. */
  ropeTurnsLocal: GPUBuffer;
  /** Bytes of every tensor in the file / allocated on the GPU (rope table excluded). */
  fileBytes: number;
  gpuBytes: number;
  destroy(): void;
}

export type { WeightProgress } from './tensor-loader';

export async function loadModelWeights(
  ctx: GpuContext,
  gguf: GGUFFile,
  source: ByteSource,
  config: ModelConfig,
  onProgress?: (p: WeightProgress) => void,
  options: { fuse?: boolean; dry?: boolean } = {},
): Promise<ModelWeights> {
  const fuse = options.fuse ?? true;
  const loader = new TensorLoader(ctx, gguf, source, onProgress, options.dry);
  const owned = loader.owned;
  const matrix = (name: string) => loader.matrix(name);
  const vector = (name: string) => loader.vector(name);
  const optional = <T>(name: string, load: (n: string) => Promise<T>) => loader.optional(name, load);
  const concatenated = (name: string, names: string[]) => loader.concatenated(name, names);
  const concatenatedVector = (name: string, names: string[]) => loader.concatenatedVector(name, names);
  const canConcatenate = (names: string[]) => fuse && loader.canConcatenate(names);

  /** q, k, v all with a bias or all without (a missing one would need zeros to fuse). */
  const qkvBiasesAlike = (blk: string): boolean => {
    const n = ['q', 'k', 'v'].filter((p) => loader.has(`${blk}.attn_${p}.bias`)).length;
    return n === 0 || n === 3;
  };

  try {
    const tokenEmbedding = await matrix('token_embd.weight');
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.numLayers; l++) {
      const blk = `blk.${l}`;
      const layer: LayerWeights = {
        attnNorm: await vector(`${blk}.attn_norm.weight`),
        wo: undefined as unknown as GpuWeight,
        ffnNorm: undefined as unknown as GPUBuffer,
        wUp: undefined as unknown as GpuWeight,
        wDown: undefined as unknown as GpuWeight,
      };
      if (config.fusedQkv) {
        layer.wqkv = await matrix(`${blk}.attn_qkv.weight`);
        layer.bqkv = await optional(`${blk}.attn_qkv.bias`, vector);
      } else if (canConcatenate(['q', 'k', 'v'].map((p) => `${blk}.attn_${p}.weight`)) && qkvBiasesAlike(blk)) {
        layer.wqkv = await concatenated(`${blk}.attn_qkv(fused)`, ['q', 'k', 'v'].map((p) => `${blk}.attn_${p}.weight`));
        if (loader.has(`${blk}.attn_q.bias`)) layer.bqkv = await concatenatedVector(`${blk}.attn_qkv.bias(fused)`, ['q', 'k', 'v'].map((p) => `${blk}.attn_${p}.bias`));
      } else {
        layer.wq = await matrix(`${blk}.attn_q.weight`);
        layer.wk = await matrix(`${blk}.attn_k.weight`);
        layer.wv = await matrix(`${blk}.attn_v.weight`);
        layer.bq = await optional(`${blk}.attn_q.bias`, vector);
        layer.bk = await optional(`${blk}.attn_k.bias`, vector);
        layer.bv = await optional(`${blk}.attn_v.bias`, vector);
      }
      if (config.qkNorm) {
        layer.qNorm = await vector(`${blk}.attn_q_norm.weight`);
        layer.kNorm = await vector(`${blk}.attn_k_norm.weight`);
      }
      layer.wo = await matrix(`${blk}.attn_output.weight`);
      layer.ffnNorm = await vector(`${blk}.ffn_norm.weight`);
      if (config.fusedGateUp) {
        layer.wUp = await matrix(`${blk}.ffn_up.weight`);
      } else if (canConcatenate([`${blk}.ffn_gate.weight`, `${blk}.ffn_up.weight`])) {
        layer.wUp = await concatenated(`${blk}.ffn_gate_up(fused)`, [`${blk}.ffn_gate.weight`, `${blk}.ffn_up.weight`]);
      } else {
        layer.wGate = await matrix(`${blk}.ffn_gate.weight`);
        layer.wUp = await matrix(`${blk}.ffn_up.weight`);
      }
      layer.wDown = await matrix(`${blk}.ffn_down.weight`);
      if (config.postNorms) {
        layer.attnPostNorm = await vector(`${blk}.post_attention_norm.weight`);
        layer.ffnPostNorm = await vector(`${blk}.post_ffw_norm.weight`);
      }
      layers.push(layer);
    }
    const outputNorm = await vector('output_norm.weight');
    const output = config.tiedEmbeddings ? tokenEmbedding : await matrix('output.weight');

    // Llama 3 rope_freqs, or the LongRoPE table this context uses (the other one is never read).
    const factorTensor = ropeFactorTensor(config);
    let freqFactors: Float32Array | undefined;
    if (factorTensor) {
      freqFactors = await loader.vectorF32(factorTensor);
      loader.progressed(loader.info(factorTensor));
    }
    if (config.longRope) loader.progressed(loader.info(factorTensor === 'rope_factors_long.weight' ? 'rope_factors_short.weight' : 'rope_factors_long.weight'));
    // Per-pair divisors and linear / YaRN scaling are folded into the table here, once.
    const ropeTurns = loader.table('rope-turns', ropeTurnTableFromFrequencies(ropePairFrequencies(config, freqFactors)));
    const local = localRopeConfig(config);
    let ropeTurnsLocal = ropeTurns;
    if (local !== config) {
      ropeTurnsLocal = loader.table('rope-turns-local', ropeTurnTableFromFrequencies(ropePairFrequencies(local, freqFactors)));
    }
    return {
      tokenEmbedding, layers, outputNorm, output, ropeTurns, ropeTurnsLocal, fileBytes: loader.fileBytes, gpuBytes: loader.gpuBytes,
      destroy: () => owned.forEach((o) => o.destroy()),
    };
  } catch (e) {
    owned.forEach((o) => o.destroy());
    throw e;
  }
}

// Re-exported so tests can build the same table the runner uses.
export { ropeTurnTable };
