// The forward pass of one step, recorded into one KernelEncoder (one compute pass).
// It reads like llama2.c's forward(), over a flattened batch of T tokens:
//
//   x = embed(tokenIds) (· sqrt(dim): gemma)              [T, dim]
//   for each layer:
//     qkv = rmsnorm(x) · attnNorm · Wqkv (+ bias)        the norm is the matmul's prologue (or, after
//                                                        gemma's post-norm, xb from add-rmsnorm);
//                                                        q/k/v concatenated at load (model-weights.ts);
//                                                        a layer that could not be: three matmuls
//     q, k = rope(rmsnorm_head(q, k)); pool[slot(t)] = k, v   one pass (rope-kv; head norm: qwen3, gemma3;
//                                                        local layers: own base; smollm3: every 4th
//                                                        layer not rotated, k/v written as computed)
//     attnOut = pagedAttention(q, pool)                  causal within each sequence (local layers:
//                                                        the last window positions; gemma2: soft-capped scores);
//                                                        GPU set: split in partitions of 256 positions
//                                                        (partial + combine) once a context passes 256
//     x += attnOut · Wo                                  the matmul's residual-add epilogue (gemma: one
//                                                        add-rmsnorm pass adds rmsnorm(attnOut · Wo) ·
//                                                        attnPostNorm and writes xb = rmsnorm(x) · ffnNorm)
//     gu = rmsnorm(x) · ffnNorm · Wgate|up               gate/up concatenated at load     [T, 2 ffnDim]
//     x += (act(gu[:, :ffnDim]) * gu[:, ffnDim:]) · Wdown   act×up is the down matmul's prologue (act:
//                                                        silu, gemma gelu_tanh); the software kernel
//                                                        set (usesGluPrologue): one pass writes act×up
//                                                        over gu's gate half, the down matmul reads
//                                                        it (no [T, ffnDim] buffer); separate gate/up:
//                                                        one siluMul pass; gemma's post-norm as above
//   for each group of ≤ G sampled rows (sample-groups.ts: the LM head's token tile, 16 or 64):
//     h = rmsnorm(x[sampleRows]) · outputNorm             [G, dim], last token of each sampled sequence
//     logits = h · Woutputᵀ (soft-capped: gemma2)        [G, vocab], then the caller's afterLogits
//                                                        (sampling) before the next group overwrites them
//
// Dispatches per layer, fused weights: 6 (qkv, rope-kv, attention, wo, gate|up, down; the
// software set 7: + act×up; the GPU set 7 once a context passes 256 positions: attention
// partial + combine; a tiled matmul split over K adds its combine), counted by
// test/gpu/step-machinery.test.ts. The fused matmuls keep the unfused bits: the norm
// prologue sums squares in rmsnorm's order, act×up is siluMul's expression, the epilogue is
// the add (matmul-io.wgsl).
import { ATTENTION_PART_LEN, pagedAttention } from '../kernels/attention';
import { addRmsNorm } from '../kernels/add-rmsnorm';
import { addInPlace, gatherRows, gluInPlace, scaleInPlace, siluMul, softcapInPlace } from '../kernels/elementwise';
import { embedding } from '../kernels/embedding';
import type { KernelEncoder } from '../kernels/encoder';
import { kvWrite } from '../kernels/kv-write';
import { matmul, usesGluPrologue, type MatmulArgs, type MatmulPrologue } from '../kernels/matmul';
import { rmsNorm } from '../kernels/rmsnorm';
import { rope } from '../kernels/rope';
import { ropeKv } from '../kernels/rope-kv';
import type { ModelConfig } from '../model/config';
import { localRopeConfig, ropeMagnitude } from '../model/rope-scaling';
import type { KvPool } from './kv-pool';
import type { ModelWeights } from './model-weights';
import { sampleGroupRows, sampleGroups, type SampleGroup } from './sample-groups';
import type { ProjectionLayout, StepBuffers } from './step-buffers';
import type { GpuWeight } from './types';

/** A projection's input: x, and the RMSNorm the matmul applies as it stages x (if any). */
type NormedInput = { x: GPUBuffer; prologue?: MatmulPrologue };
/** The down projection's input: x's first ffnDim values per row of `xStride` (default ffnDim), or a GLU prologue. */
type DownInput = { x: GPUBuffer; prologue?: MatmulPrologue; xStride?: number };

export interface ForwardShape {
  numTokens: number; // T
  numSampled: number; // S
  /** Also write the final-norm hidden states of all T tokens into `bufs.hidden`. */
  wantHidden: boolean;
  /**
   * Records what reads a group's logits (sampling; runner.ts), after the group's LM head and
   * before the next group's overwrites bufs.logits [group.count, vocab].
   */
  afterLogits?: (enc: KernelEncoder, group: SampleGroup, index: number) => void;
  /**
   * Partitions of the fixed attention split (attention.ts stepAttentionParts of the step's
   * longest context; needs bufs.ensureAttentionScratch). Default 1: one pass.
   */
  attentionParts?: number;
}

/** Records the layers and, when S > 0, the final norm and LM head of the sampled rows into `bufs.logits`, a group at a time. */
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
  // Every matmul of the step may split K when its output tiles are few (GPU set; matmul.ts
  // chooseSplitK): the same bits as unsplit.
  const mm = (args: Omit<MatmulArgs, 'splitScratch'>) => matmul(enc, { ...args, splitScratch: bufs.splitKScratch });

  /**
   * x += proj(·) · W, and the input of the next projection: x with `nextNorm` as its
   * prologue. gemma's post-norm needs the whole row of the projection first, so there the
   * matmul writes `proj` and one add-rmsnorm pass adds rmsnorm(proj) · postNorm and writes
   * rmsnorm(x) · nextNorm into `out` (xb; the final `hidden`).
   */
  const residualProjection = (
    enc: KernelEncoder,
    a: { weight: GpuWeight; x: GPUBuffer; prologue?: MatmulPrologue; xStride?: number; postNorm?: GPUBuffer; nextNorm?: GPUBuffer; out?: GPUBuffer },
  ): NormedInput => {
    if (!a.postNorm) {
      mm({ weight: a.weight, x: a.x, prologue: a.prologue, xStride: a.xStride, y: bufs.x, accumulate: true, numTokens: T }); // x [T, dim]
      return a.nextNorm ? normed(a.nextNorm) : { x: bufs.x };
    }
    mm({ weight: a.weight, x: a.x, prologue: a.prologue, xStride: a.xStride, y: bufs.proj, numTokens: T }); // [T, dim]
    if (a.nextNorm) {
      const out = a.out ?? bufs.xb;
      addRmsNorm(enc, { ...norm, x: bufs.x, y: bufs.proj, postWeight: a.postNorm, weight: a.nextNorm, out }); // x, out [T, dim]
      return { x: out };
    }
    rmsNorm(enc, { ...norm, x: bufs.proj, weight: a.postNorm, out: bufs.xb });
    addInPlace(enc, { x: bufs.x, y: bufs.xb, n: T * c.dim });
    return { x: bufs.x };
  };

  embedding(enc, { weight: w.tokenEmbedding, tokenIds: bufs.tokenIds, out: bufs.x, numTokens: T }); // x [T, dim]
  if (c.embedScale !== undefined) scaleInPlace(enc, { x: bufs.x, n: T * c.dim, scale: c.embedScale });
  const localRope = localRopeConfig(c);
  // The next projection's input: x with the norm `weight` as the matmul's prologue, or xb
  // already normed (after a gemma post-norm, whose add-rmsnorm pass writes it).
  const normed = (weight: GPUBuffer): NormedInput => ({ x: bufs.x, prologue: { kind: 'norm', weight, eps: c.rmsEps } });
  let input = normed(w.layers[0].attnNorm);

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
      mm({ ...input, weight: lw.wqkv, y: bufs.qkv!, bias: lw.bqkv, numTokens: T }); // [T, qDim + 2 kvDim]
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
      mm({ ...input, weight: lw.wq!, y: bufs.q!, bias: lw.bq, numTokens: T }); // [T, qDim]
      mm({ ...input, weight: lw.wk!, y: bufs.k!, bias: lw.bk, numTokens: T }); // [T, kvDim]
      mm({ ...input, weight: lw.wv!, y: bufs.v!, bias: lw.bv, numTokens: T }); // [T, kvDim]
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
    input = residualProjection(enc, { weight: lw.wo, x: bufs.attnOut, postNorm: lw.attnPostNorm, nextNorm: lw.ffnNorm }); // x [T, dim]

    // ---- feed-forward (SwiGLU; gemma: GeGLU) ----
    let down: DownInput;
    if (lw.wGate) {
      mm({ ...input, weight: lw.wGate, y: bufs.gate!, numTokens: T }); // [T, ffnDim]
      mm({ ...input, weight: lw.wUp, y: bufs.up!, numTokens: T }); // [T, ffnDim]
      siluMul(enc, { gate: bufs.gate!, up: bufs.up!, out: bufs.hb!, numRows: T, n: c.ffnDim, act: c.ffnAct });
      down = { x: bufs.hb! };
    } else {
      mm({ ...input, weight: lw.wUp, y: bufs.gateUp!, numTokens: T }); // [T, 2 ffnDim]: gate, then up
      if (usesGluPrologue(enc.ctx.software)) {
        down = { x: bufs.gateUp!, prologue: { kind: 'glu', act: c.ffnAct ?? 'silu' } };
      } else {
        gluInPlace(enc, { gateUp: bufs.gateUp!, numRows: T, n: c.ffnDim, act: c.ffnAct }); // gu[:, :ffnDim] = act(gate) * up
        down = { x: bufs.gateUp!, xStride: 2 * c.ffnDim };
      }
    }
    const last = l + 1 === c.numLayers;
    // The last layer's norm, when asked, is the final norm of every row into `hidden`.
    const nextNorm = last ? (shape.wantHidden ? w.outputNorm : undefined) : w.layers[l + 1].attnNorm;
    input = residualProjection(enc, { weight: lw.wDown, ...down, postNorm: lw.ffnPostNorm, nextNorm, out: last ? bufs.hidden : bufs.xb }); // x [T, dim]
    if (last && shape.wantHidden && input.prologue) rmsNorm(enc, { ...norm, x: bufs.x, weight: w.outputNorm, out: bufs.hidden! }); // [T, dim]
  }

  // Only the rows that are sampled need the final norm and the (largest) LM head matmul.
  sampleGroups(shape.numSampled, sampleGroupRows(enc.ctx.software)).forEach((group, g) => {
    const G = group.count;
    gatherRows(enc, { x: bufs.x, rowIds: bufs.sampleRowGroups[g], out: bufs.lastHidden, numRows: G, rowLen: c.dim }); // [G, dim]
    rmsNorm(enc, { x: bufs.lastHidden, weight: w.outputNorm, out: bufs.lastNormed, numRows: G, rowSize: c.dim, eps: c.rmsEps });
    mm({ weight: w.output, x: bufs.lastNormed, y: bufs.logits, numTokens: G }); // [G, vocab]
    if (c.finalSoftcap !== undefined) softcapInPlace(enc, { x: bufs.logits, n: G * c.vocabSize, cap: c.finalSoftcap });
    shape.afterLogits?.(enc, group, g);
  });
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
