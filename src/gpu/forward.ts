// The forward pass of one step, recorded into one KernelEncoder (one compute pass).
// It reads like llama2.c's forward(), over a flattened batch of T tokens:
//
//   x = embed(tokenIds) (· sqrt(dim): gemma)              [T, dim]
//   xb = rmsnorm(x) · attnNorm[0]
//   for each layer:
//     qkv = xb · Wqkv (+ bias)                           q/k/v concatenated at load (model-weights.ts);
//                                                        a layer that could not be: three matmuls
//     q, k = rope(rmsnorm_head(q, k)); pool[slot(t)] = k, v   one pass (rope-kv; head norm: qwen3, gemma3;
//                                                        local layers: own base; smollm3: every 4th
//                                                        layer not rotated, k/v written as computed)
//     attnOut = pagedAttention(q, pool)                  causal within each sequence (local layers:
//                                                        the last window positions; gemma2: soft-capped scores);
//                                                        GPU set: split in partitions of 256 positions
//                                                        (partial + combine) once a context passes 256
//     x += attnOut · Wo;  xb = rmsnorm(x) · ffnNorm      one pass (add-rmsnorm; gemma: the add takes
//                                                        rmsnorm(attnOut · Wo) · attnPostNorm)
//     gu = xb · Wgate|up                                 gate/up concatenated at load     [T, 2 ffnDim]
//     hb = act(gu[:, :ffnDim]) * gu[:, ffnDim:]          act: silu, gemma gelu_tanh
//     x += hb · Wdown;  xb = rmsnorm(x) · attnNorm[l+1]  one pass (the last layer: the add alone, or
//                                                        with the final norm into `hidden` when asked)
//   h = rmsnorm(x[sampleRows]) · outputNorm               [S, dim], last token of each sampled sequence
//   logits = h · Woutputᵀ (soft-capped: gemma2)          [S, vocab]
//
// Dispatches per layer, fused: 9 (qkv, rope-kv, attention, wo, add-norm, gate|up, act×up,
// down, add-norm), counted by test/gpu/step-machinery.test.ts; 10 on the GPU set once a
// context passes 256 positions (attention partial + combine).
import { ATTENTION_PART_LEN, pagedAttention } from '../kernels/attention';
import { addRmsNorm } from '../kernels/add-rmsnorm';
import { addInPlace, gatherRows, scaleInPlace, siluMul, softcapInPlace } from '../kernels/elementwise';
import { embedding } from '../kernels/embedding';
import type { KernelEncoder } from '../kernels/encoder';
import { kvWrite } from '../kernels/kv-write';
import { matmul } from '../kernels/matmul';
import { rmsNorm } from '../kernels/rmsnorm';
import { rope } from '../kernels/rope';
import { ropeKv } from '../kernels/rope-kv';
import type { ModelConfig } from '../model/config';
import { localRopeConfig, ropeMagnitude } from '../model/rope-scaling';
import type { KvPool } from './kv-pool';
import type { ModelWeights } from './model-weights';
import type { ProjectionLayout, StepBuffers } from './step-buffers';

export interface ForwardShape {
  numTokens: number; // T
  numSampled: number; // S
  /** Also write the final-norm hidden states of all T tokens into `bufs.hidden`. */
  wantHidden: boolean;
  /**
   * Partitions of the fixed attention split (attention.ts stepAttentionParts of the step's
   * longest context; needs bufs.ensureAttentionScratch). Default 1: one pass.
   */
  attentionParts?: number;
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
  const norm = { numRows: T, rowSize: c.dim, eps: c.rmsEps };
  // A token's partitions past its own context are empty, so its bits do not depend on the
  // batch's longest context; one partition is the one-pass kernel (the same bits).
  const parts = shape.attentionParts ?? 1;
  if (parts > 1 && !bufs.attnScratch) throw new Error('internal: a split step without bufs.ensureAttentionScratch');
  const split = parts > 1 ? { plan: { numParts: parts, partLen: ATTENTION_PART_LEN }, scratch: bufs.attnScratch! } : undefined;

  embedding(enc, { weight: w.tokenEmbedding, tokenIds: bufs.tokenIds, out: bufs.x, numTokens: T }); // x [T, dim]
  if (c.embedScale !== undefined) scaleInPlace(enc, { x: bufs.x, n: T * c.dim, scale: c.embedScale });
  // The only standalone norm: every later one rides on the residual add before it.
  rmsNorm(enc, { ...norm, x: bufs.x, weight: w.layers[0].attnNorm, out: bufs.xb }); // xb [T, dim]
  const localRope = localRopeConfig(c);

  for (let l = 0; l < c.numLayers; l++) {
    const lw = w.layers[l];
    const local = c.slidingWindow?.localLayers[l] ?? false;

    // ---- attention ----
    const ropeCommon = {
      positions: bufs.positions, turns: local ? w.ropeTurnsLocal : w.ropeTurns, numTokens: T, headDim: c.headDim, ropeDim: c.ropeDim,
      style: c.ropeStyle, magnitude: ropeMagnitude(local ? localRope : c),
    } as const;
    // Where q lives: a column range of the fused qkv row, or its own buffer.
    let qBuf: GPUBuffer;
    let qRowStride: number | undefined;
    if (lw.wqkv) {
      matmul(enc, { weight: lw.wqkv, x: bufs.xb, y: bufs.qkv!, bias: lw.bqkv, numTokens: T }); // [T, qDim + 2 kvDim]
      if (c.noRopeLayers?.[l]) {
        // smollm3's NoPE layers (no q/k norms there): k and v go to the pool as computed.
        kvWrite(enc, {
          k: bufs.qkv!, v: bufs.qkv!, slotMapping: bufs.slotMapping, kPool: pool.kPools[l], vPool: pool.vPools[l], numTokens: T, kvDim, kvType: pool.kvType,
          kRowStride: qDim + 2 * kvDim, kColOffset: qDim, vRowStride: qDim + 2 * kvDim, vColOffset: qDim + kvDim,
        });
      } else {
        ropeKv(enc, {
          ...ropeCommon, qkv: bufs.qkv!, slotMapping: bufs.slotMapping, kPool: pool.kPools[l], vPool: pool.vPools[l], kvType: pool.kvType,
          numHeads: c.numHeads, numKvHeads: c.numKvHeads, norm: lw.qNorm ? { q: lw.qNorm, k: lw.kNorm!, eps: c.rmsEps } : undefined,
        });
      }
      qBuf = bufs.qkv!;
      qRowStride = qDim + 2 * kvDim;
    } else {
      matmul(enc, { weight: lw.wq!, x: bufs.xb, y: bufs.q!, bias: lw.bq, numTokens: T }); // [T, qDim]
      matmul(enc, { weight: lw.wk!, x: bufs.xb, y: bufs.k!, bias: lw.bk, numTokens: T }); // [T, kvDim]
      matmul(enc, { weight: lw.wv!, x: bufs.xb, y: bufs.v!, bias: lw.bv, numTokens: T }); // [T, kvDim]
      if (!c.noRopeLayers?.[l]) {
        rope(enc, { ...ropeCommon, x: bufs.q!, numHeads: c.numHeads, norm: lw.qNorm ? { weight: lw.qNorm, eps: c.rmsEps } : undefined });
        rope(enc, { ...ropeCommon, x: bufs.k!, numHeads: c.numKvHeads, norm: lw.kNorm ? { weight: lw.kNorm, eps: c.rmsEps } : undefined });
      }
      kvWrite(enc, {
        k: bufs.k!, v: bufs.v!, slotMapping: bufs.slotMapping, kPool: pool.kPools[l], vPool: pool.vPools[l], numTokens: T, kvDim, kvType: pool.kvType,
      });
      qBuf = bufs.q!;
    }
    pagedAttention(enc, {
      q: qBuf, kPool: pool.kPools[l], vPool: pool.vPools[l], tokenMeta: bufs.tokenMeta, blockTables: bufs.blockTables,
      out: bufs.attnOut, numTokens: T, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, qRowStride,
      kvType: pool.kvType, scale: c.attnScale, softcap: c.attnSoftcap, window: local ? c.slidingWindow!.size : undefined, split,
    }); // [T, qDim]
    matmul(enc, { weight: lw.wo, x: bufs.attnOut, y: bufs.proj, numTokens: T }); // [T, dim]
    addRmsNorm(enc, { ...norm, x: bufs.x, y: bufs.proj, postWeight: lw.attnPostNorm, weight: lw.ffnNorm, out: bufs.xb }); // x, xb [T, dim]

    // ---- feed-forward (SwiGLU; gemma: GeGLU) ----
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
    if (l + 1 < c.numLayers) {
      addRmsNorm(enc, { ...norm, x: bufs.x, y: bufs.proj, postWeight: lw.ffnPostNorm, weight: w.layers[l + 1].attnNorm, out: bufs.xb });
    } else if (shape.wantHidden) {
      // The final norm of every row, for steps that return hidden states.
      addRmsNorm(enc, { ...norm, x: bufs.x, y: bufs.proj, postWeight: lw.ffnPostNorm, weight: w.outputNorm, out: bufs.hidden! }); // [T, dim]
    } else {
      if (lw.ffnPostNorm) rmsNorm(enc, { ...norm, x: bufs.proj, weight: lw.ffnPostNorm, out: bufs.xb });
      addInPlace(enc, { x: bufs.x, y: lw.ffnPostNorm ? bufs.xb : bufs.proj, n: T * c.dim });
    }
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

/** The projection buffers `w`'s layers need (fused at load, separate, or both). */
export function projectionLayout(w: ModelWeights): ProjectionLayout {
  return {
    fusedQkv: w.layers.some((l) => l.wqkv !== undefined),
    separateQkv: w.layers.some((l) => l.wqkv === undefined),
    fusedGateUp: w.layers.some((l) => l.wGate === undefined),
    separateGateUp: w.layers.some((l) => l.wGate !== undefined),
  };
}

/** Upper bound on the uniform blocks one forward pushes (arena sizing), with `attentionChunks` split chunks per layer. */
export function uniformBlocksPerForward(w: ModelWeights, attentionChunks = 1): number {
  const parts = (wt: { parts: unknown[] } | undefined) => (wt ? wt.parts.length : 0);
  let n = w.tokenEmbedding.parts.length + 4 + w.output.parts.length;
  for (const lw of w.layers) {
    n += 11 + attentionChunks + parts(lw.wq) + parts(lw.wk) + parts(lw.wv) + parts(lw.wqkv) + parts(lw.wo) + parts(lw.wGate) + parts(lw.wUp) + parts(lw.wDown);
  }
  return n + 10; // + embedding scale, final norm of all rows, soft-cap, sampling
}
