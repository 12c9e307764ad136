// Every tensor of a BERT-family encoder (bert, nomic-bert) on the GPU, named by role
// (encoder-config.ts lists them; encoder-forward.ts reads them). Biases llama.cpp treats as
// optional stay undefined when the file has none.
import { ropeTurnTableFromFrequencies } from '../kernels/rope';
import type { ModelConfig } from '../model/config';
import type { ByteSource, GGUFFile } from '../model/gguf/types';
import { ropePairFrequencies } from '../model/rope-scaling';
import type { GpuContext } from './context';
import { RunnerError } from './runner-errors';
import { TensorLoader, type WeightProgress } from './tensor-loader';
import type { GpuWeight } from './weights';

export interface EncoderLayerWeights {
  /** Separate projections (bert). */
  wq?: GpuWeight; // [qDim, dim]
  wk?: GpuWeight; // [kvDim, dim]
  wv?: GpuWeight; // [kvDim, dim]
  bq?: GPUBuffer; // [qDim] f32
  bk?: GPUBuffer; // [kvDim] f32
  bv?: GPUBuffer; // [kvDim] f32
  /** Fused projection (nomic-bert): rows q, then k, then v. */
  wqkv?: GpuWeight; // [qDim + 2 kvDim, dim]
  bqkv?: GPUBuffer; // [qDim + 2 kvDim] f32
  wo: GpuWeight; // [dim, qDim]
  bo?: GPUBuffer; // [dim] f32
  attnOutNorm: GPUBuffer; // [dim] f32 LayerNorm weight
  attnOutNormBias: GPUBuffer; // [dim] f32
  /** nomic-bert (SwiGLU) only. */
  wGate?: GpuWeight; // [ffnDim, dim]
  wUp: GpuWeight; // [ffnDim, dim]
  bUp?: GPUBuffer; // [ffnDim] f32 (bert)
  wDown: GpuWeight; // [dim, ffnDim]
  bDown?: GPUBuffer; // [dim] f32 (bert)
  layerOutNorm: GPUBuffer; // [dim] f32 LayerNorm weight
  layerOutNormBias: GPUBuffer; // [dim] f32
}

export interface EncoderWeights {
  tokenEmbedding: GpuWeight; // [vocab, dim]
  /** Row 0 of token_types.weight (llama.cpp always uses token type 0). */
  typeRow?: GPUBuffer; // [dim] f32
  /** bert: learned positions. */
  positionEmbedding?: GpuWeight; // [contextLength, dim]
  embedNorm: GPUBuffer; // [dim] f32
  embedNormBias: GPUBuffer; // [dim] f32
  layers: EncoderLayerWeights[];
  /** nomic-bert: [ropeDim / 2, 2] u32 RoPE turns per position (rope.ts). */
  ropeTurns?: GPUBuffer;
  fileBytes: number;
  gpuBytes: number;
  destroy(): void;
}

export async function loadEncoderWeights(
  ctx: GpuContext,
  gguf: GGUFFile,
  source: ByteSource,
  config: ModelConfig,
  onProgress?: (p: WeightProgress) => void,
): Promise<EncoderWeights> {
  const enc = config.encoder;
  if (!enc) throw new RunnerError('model_load_failed', `${config.arch} is not an encoder model`);
  const loader = new TensorLoader(ctx, gguf, source, onProgress);
  const matrix = (name: string) => loader.matrix(name);
  const vector = (name: string) => loader.vector(name);
  const optionalVector = (name: string) => loader.optional(name, vector);
  try {
    const tokenEmbedding = await matrix('token_embd.weight');
    let typeRow: GPUBuffer | undefined;
    if (loader.has('token_types.weight')) {
      const types = await loader.vectorF32('token_types.weight'); // [numTokenTypes, dim]
      typeRow = loader.upload('token_types.weight[0]', types.slice(0, config.dim));
      loader.progressed(loader.info('token_types.weight'));
    }
    const positionEmbedding = enc.positions === 'learned' ? await matrix('position_embd.weight') : undefined;
    const embedNorm = await vector('token_embd_norm.weight');
    const embedNormBias = await vector('token_embd_norm.bias');
    const layers: EncoderLayerWeights[] = [];
    for (let l = 0; l < config.numLayers; l++) {
      const blk = `blk.${l}`;
      const fused = config.fusedQkv;
      layers.push({
        wqkv: fused ? await matrix(`${blk}.attn_qkv.weight`) : undefined,
        bqkv: fused ? await optionalVector(`${blk}.attn_qkv.bias`) : undefined,
        wq: fused ? undefined : await matrix(`${blk}.attn_q.weight`),
        wk: fused ? undefined : await matrix(`${blk}.attn_k.weight`),
        wv: fused ? undefined : await matrix(`${blk}.attn_v.weight`),
        bq: fused ? undefined : await optionalVector(`${blk}.attn_q.bias`),
        bk: fused ? undefined : await optionalVector(`${blk}.attn_k.bias`),
        bv: fused ? undefined : await optionalVector(`${blk}.attn_v.bias`),
        wo: await matrix(`${blk}.attn_output.weight`),
        bo: await optionalVector(`${blk}.attn_output.bias`),
        attnOutNorm: await vector(`${blk}.attn_output_norm.weight`),
        attnOutNormBias: await vector(`${blk}.attn_output_norm.bias`),
        wGate: enc.ffn === 'swiglu' ? await matrix(`${blk}.ffn_gate.weight`) : undefined,
        wUp: await matrix(`${blk}.ffn_up.weight`),
        // nomic-bert's graph ignores FFN biases (llama.cpp passes NULL), so they are not loaded.
        bUp: enc.ffn === 'gelu' ? await optionalVector(`${blk}.ffn_up.bias`) : undefined,
        wDown: await matrix(`${blk}.ffn_down.weight`),
        bDown: enc.ffn === 'gelu' ? await optionalVector(`${blk}.ffn_down.bias`) : undefined,
        layerOutNorm: await vector(`${blk}.layer_output_norm.weight`),
        layerOutNormBias: await vector(`${blk}.layer_output_norm.bias`),
      });
    }
    const ropeTurns = enc.positions === 'rope' ? loader.upload('rope-turns', ropeTurnTableFromFrequencies(ropePairFrequencies(config))) : undefined;
    return {
      tokenEmbedding, typeRow, positionEmbedding, embedNorm, embedNormBias, layers, ropeTurns,
      fileBytes: loader.fileBytes, gpuBytes: loader.gpuBytes,
      destroy: () => loader.destroyAll(),
    };
  } catch (e) {
    loader.destroyAll();
    throw e;
  }
}

/** Upper bound on the uniform blocks one encoder forward pushes (arena sizing). */
export function uniformBlocksPerEncoderForward(w: EncoderWeights): number {
  const parts = (wt: { parts: unknown[] } | undefined) => (wt ? wt.parts.length : 0);
  let n = parts(w.tokenEmbedding) + parts(w.positionEmbedding) + 4;
  for (const lw of w.layers) {
    n += 12 + parts(lw.wq) + parts(lw.wk) + parts(lw.wv) + parts(lw.wqkv) + parts(lw.wo) + parts(lw.wGate) + parts(lw.wUp) + parts(lw.wDown);
  }
  return n + 4; // + pooling
}
