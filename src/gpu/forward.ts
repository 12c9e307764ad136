// The forward pass of one step, recorded into one KernelEncoder (one compute pass).
// It reads like llama2.c's forward(), over a flattened batch of T tokens:
//
//   x = embed(tokenIds) (· sqrt(dim): gemma)              [T, dim]
//   for each layer:
//     xb = rmsnorm(x) · attnNorm
//     q, k, v = xb · Wq, Wk, Wv (+ bias)                 (phi3: one fused qkv row)
//     q, k = rope(rmsnorm_head(q, k))                    (head norm: qwen3, gemma3; local layers: own base;
//                                                        smollm3: every 4th layer not rotated)
//     pool[slot(t)] = k, v                                KV write through the block tables
//     attnOut = pagedAttention(q, pool)                  causal within each sequence (local layers:
//                                                        the last window positions; gemma2: soft-capped scores)
//     x += attnOut · Wo                                  (gemma: rmsnorm(attnOut · Wo) · attnPostNorm)
//     xb = rmsnorm(x) · ffnNorm
//     x += (act(xb · Wgate) * (xb · Wup)) · Wdown        (act: silu, gemma gelu_tanh; phi3: one fused
//                                                        gate/up row; gemma: post-norm as above)
//   h = rmsnorm(x[sampleRows]) · outputNorm               [S, dim], last token of each sampled sequence
//   logits = h · Woutputᵀ (soft-capped: gemma2)          [S, vocab]
import { pagedAttention } from '../kernels/attention';
import { addInPlace, gatherRows, scaleInPlace, siluMul, softcapInPlace } from '../kernels/elementwise';
import { embedding } from '../kernels/embedding';
import type { KernelEncoder } from '../kernels/encoder';
import { kvWrite } from '../kernels/kv-write';
import { matmul } from '../kernels/matmul';
import { rmsNorm } from '../kernels/rmsnorm';
import { rope } from '../kernels/rope';
import type { ModelConfig } from '../model/config';
import { localRopeConfig, ropeMagnitude } from '../model/rope-scaling';
import type { KvPool } from './kv-pool';
import type { ModelWeights } from './model-weights';
import type { StepBuffers } from './step-buffers';

export interface ForwardShape {
  numTokens: number; // T
  numSampled: number; // S
  /** Also write the final-norm hidden states of all T tokens into `bufs.hidden`. */
  wantHidden: boolean;
}

/** Records the layers and, when S > 0, the final norm and LM head of the sampled rows into `bufs.logits`. */
export function encodeForward(
  enc: KernelEncoder,
  config: ModelConfig,
  w: ModelWeights,
  pool: KvPool,
  bufs: StepBuffers,
  shape: ForwardShape,
): void {
  const c = config;
  const T = shape.numTokens;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  /** x += proj [T, dim], through a post-norm (gemma) when the layer has one; xb is free here. */
  const addResidual = (postNorm: GPUBuffer | undefined) => {
    if (postNorm) rmsNorm(enc, { x: bufs.proj, weight: postNorm, out: bufs.xb, numRows: T, rowSize: c.dim, eps: c.rmsEps });
    addInPlace(enc, { x: bufs.x, y: postNorm ? bufs.xb : bufs.proj, n: T * c.dim });
  };

  embedding(enc, { weight: w.tokenEmbedding, tokenIds: bufs.tokenIds, out: bufs.x, numTokens: T }); // x [T, dim]
  if (c.embedScale !== undefined) scaleInPlace(enc, { x: bufs.x, n: T * c.dim, scale: c.embedScale });
  const localRope = localRopeConfig(c);

  for (let l = 0; l < c.numLayers; l++) {
    const lw = w.layers[l];
    const local = c.slidingWindow?.localLayers[l] ?? false;

    // ---- attention ----
    rmsNorm(enc, { x: bufs.x, weight: lw.attnNorm, out: bufs.xb, numRows: T, rowSize: c.dim, eps: c.rmsEps });
    // Where q, k, v live: three buffers, or three column ranges of one fused row.
    let qBuf: GPUBuffer, kBuf: GPUBuffer, vBuf: GPUBuffer;
    let qkvStride: number | undefined;
    let kOffset = 0, vOffset = 0;
    if (lw.wqkv) {
      matmul(enc, { weight: lw.wqkv, x: bufs.xb, y: bufs.qkv!, bias: lw.bqkv, numTokens: T }); // [T, qDim + 2 kvDim]
      qBuf = kBuf = vBuf = bufs.qkv!;
      qkvStride = qDim + 2 * kvDim;
      kOffset = qDim;
      vOffset = qDim + kvDim;
    } else {
      matmul(enc, { weight: lw.wq!, x: bufs.xb, y: bufs.q!, bias: lw.bq, numTokens: T }); // [T, qDim]
      matmul(enc, { weight: lw.wk!, x: bufs.xb, y: bufs.k!, bias: lw.bk, numTokens: T }); // [T, kvDim]
      matmul(enc, { weight: lw.wv!, x: bufs.xb, y: bufs.v!, bias: lw.bv, numTokens: T }); // [T, kvDim]
      qBuf = bufs.q!;
      kBuf = bufs.k!;
      vBuf = bufs.v!;
    }
    const ropeCommon = {
      positions: bufs.positions, turns: local ? w.ropeTurnsLocal : w.ropeTurns, numTokens: T, headDim: c.headDim, ropeDim: c.ropeDim,
      style: c.ropeStyle, magnitude: ropeMagnitude(local ? localRope : c),
    } as const;
    if (!c.noRopeLayers?.[l]) {
      rope(enc, {
        ...ropeCommon, x: qBuf, numHeads: c.numHeads, rowStride: qkvStride, colOffset: 0,
        norm: lw.qNorm ? { weight: lw.qNorm, eps: c.rmsEps } : undefined,
      });
      rope(enc, {
        ...ropeCommon, x: kBuf, numHeads: c.numKvHeads, rowStride: qkvStride, colOffset: kOffset,
        norm: lw.kNorm ? { weight: lw.kNorm, eps: c.rmsEps } : undefined,
      });
    }
    kvWrite(enc, {
      k: kBuf, v: vBuf, slotMapping: bufs.slotMapping, kPool: pool.kPools[l], vPool: pool.vPools[l], numTokens: T, kvDim,
      kRowStride: qkvStride, kColOffset: kOffset, vRowStride: qkvStride, vColOffset: vOffset, kvType: pool.kvType,
    });
    pagedAttention(enc, {
      q: qBuf, kPool: pool.kPools[l], vPool: pool.vPools[l], tokenMeta: bufs.tokenMeta, blockTables: bufs.blockTables,
      out: bufs.attnOut, numTokens: T, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, qRowStride: qkvStride,
      kvType: pool.kvType, scale: c.attnScale, softcap: c.attnSoftcap, window: local ? c.slidingWindow!.size : undefined,
    }); // [T, qDim]
    matmul(enc, { weight: lw.wo, x: bufs.attnOut, y: bufs.proj, numTokens: T }); // [T, dim]
    addResidual(lw.attnPostNorm);

    // ---- feed-forward (SwiGLU; gemma: GeGLU) ----
    rmsNorm(enc, { x: bufs.x, weight: lw.ffnNorm, out: bufs.xb, numRows: T, rowSize: c.dim, eps: c.rmsEps });
    if (lw.wGate) {
      matmul(enc, { weight: lw.wGate, x: bufs.xb, y: bufs.gate!, numTokens: T }); // [T, ffnDim]
      matmul(enc, { weight: lw.wUp, x: bufs.xb, y: bufs.up!, numTokens: T }); // [T, ffnDim]
      siluMul(enc, { gate: bufs.gate!, up: bufs.up!, out: bufs.hb, numRows: T, n: c.ffnDim, act: c.ffnAct });
    } else {
      matmul(enc, { weight: lw.wUp, x: bufs.xb, y: bufs.gateUp!, numTokens: T }); // [T, 2 ffnDim]: gate, then up
      siluMul(enc, {
        gate: bufs.gateUp!, up: bufs.gateUp!, out: bufs.hb, numRows: T, n: c.ffnDim,
        gateStride: 2 * c.ffnDim, gateOffset: 0, upStride: 2 * c.ffnDim, upOffset: c.ffnDim, act: c.ffnAct,
      });
    }
    matmul(enc, { weight: lw.wDown, x: bufs.hb, y: bufs.proj, numTokens: T }); // [T, dim]
    addResidual(lw.ffnPostNorm);
  }

  if (shape.wantHidden) {
    rmsNorm(enc, { x: bufs.x, weight: w.outputNorm, out: bufs.hidden!, numRows: T, rowSize: c.dim, eps: c.rmsEps }); // [T, dim]
  }
  const S = shape.numSampled;
  if (S > 0) {
    // Only the rows that are sampled need the final norm and the (largest) LM head matmul.
    gatherRows(enc, { x: bufs.x, rowIds: bufs.sampleRows, out: bufs.lastHidden, numRows: S, rowLen: c.dim }); // [S, dim]
    rmsNorm(enc, { x: bufs.lastHidden, weight: w.outputNorm, out: bufs.lastNormed, numRows: S, rowSize: c.dim, eps: c.rmsEps });
    matmul(enc, { weight: w.output, x: bufs.lastNormed, y: bufs.logits, numTokens: S }); // [S, vocab]
    if (c.finalSoftcap !== undefined) softcapInPlace(enc, { x: bufs.logits, n: S * c.vocabSize, cap: c.finalSoftcap });
  }
}

/** Upper bound on the uniform blocks one forward pushes (arena sizing). */
export function uniformBlocksPerForward(w: ModelWeights): number {
  const parts = (wt: { parts: unknown[] } | undefined) => (wt ? wt.parts.length : 0);
  let n = w.tokenEmbedding.parts.length + 4 + w.output.parts.length;
  for (const lw of w.layers) {
    n += 12 + parts(lw.wq) + parts(lw.wk) + parts(lw.wv) + parts(lw.wqkv) + parts(lw.wo) + parts(lw.wGate) + parts(lw.wUp) + parts(lw.wDown);
  }
  return n + 10; // + embedding scale, final norm of all rows, soft-cap, sampling
}
