// The forward pass of a BERT-family encoder (bert, nomic-bert) over a flattened batch of T
// tokens, recorded into one KernelEncoder; reads like llama.cpp's bert graph:
//
//   x = embed(tokenIds) + typeRow (+ embed_pos(positions): bert)      [T, dim]
//   h = layerNorm(x) · embedNorm + embedNormBias
//   for each layer (post-norm):
//     q, k, v = h · Wq, Wk, Wv + biases                (nomic-bert: one fused qkv row, then RoPE on q, k)
//     scratch[slot(t)] = k, v                           one layer's K/V, reused by every layer
//     a = attention(q, scratch)                        bidirectional within each sequence (tokenMeta)
//     f = layerNorm(h + a · Wo + bo) · attnOutNorm
//     h = layerNorm(f + ffn(f)) · layerOutNorm         ffn: GELU(f·Wup + bu)·Wdown + bd (bert),
//                                                      (silu(f·Wgate) * f·Wup)·Wdown (nomic-bert)
//   returns the buffer holding h [T, dim] (the final hidden states, pooled by the caller)
//
// Bidirectional attention reuses the paged kernel: every token's tokenMeta carries its
// sequence's LAST position as the context end, so it sees positions 0..len-1 of its own
// sequence through that sequence's scratch blocks (embed-step.ts fills the metadata).
import { pagedAttention } from '../kernels/attention';
import { addInPlace, addRowInPlace, geluInPlace, siluMul } from '../kernels/elementwise';
import { embedding } from '../kernels/embedding';
import type { KernelEncoder } from '../kernels/encoder';
import { kvWrite } from '../kernels/kv-write';
import { layerNorm } from '../kernels/layernorm';
import { matmul } from '../kernels/matmul';
import { rope } from '../kernels/rope';
import type { ModelConfig } from '../model/config';
import { ropeMagnitude } from '../model/rope-scaling';
import type { EncoderWeights } from './encoder-weights';
import type { KvPool } from './kv-pool';
import type { StepBuffers } from './step-buffers';

export function encodeEncoderForward(
  enc: KernelEncoder, c: ModelConfig, w: EncoderWeights, scratch: KvPool, bufs: StepBuffers, numTokens: number,
): GPUBuffer {
  const T = numTokens;
  const e = c.encoder!;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const eps = c.rmsEps; // the LayerNorm epsilon for encoders
  const h = bufs.xb; // [T, dim] layer input / output
  const f = bufs.x; // [T, dim] after the attention block

  embedding(enc, { weight: w.tokenEmbedding, tokenIds: bufs.tokenIds, out: bufs.x, numTokens: T }); // x [T, dim]
  if (w.typeRow) addRowInPlace(enc, { x: bufs.x, row: w.typeRow, numRows: T, n: c.dim });
  if (w.positionEmbedding) {
    embedding(enc, { weight: w.positionEmbedding, tokenIds: bufs.positions, out: bufs.proj, numTokens: T }); // [T, dim]
    addInPlace(enc, { x: bufs.x, y: bufs.proj, n: T * c.dim });
  }
  layerNorm(enc, { x: bufs.x, weight: w.embedNorm, bias: w.embedNormBias, out: h, numRows: T, rowSize: c.dim, eps });

  for (const lw of w.layers) {
    // ---- attention ----
    let qBuf: GPUBuffer, kBuf: GPUBuffer, vBuf: GPUBuffer;
    let qkvStride: number | undefined;
    let kOffset = 0, vOffset = 0;
    if (lw.wqkv) {
      matmul(enc, { weight: lw.wqkv, x: h, y: bufs.qkv!, bias: lw.bqkv, numTokens: T }); // [T, qDim + 2 kvDim]
      qBuf = kBuf = vBuf = bufs.qkv!;
      qkvStride = qDim + 2 * kvDim;
      kOffset = qDim;
      vOffset = qDim + kvDim;
    } else {
      matmul(enc, { weight: lw.wq!, x: h, y: bufs.q!, bias: lw.bq, numTokens: T }); // [T, qDim]
      matmul(enc, { weight: lw.wk!, x: h, y: bufs.k!, bias: lw.bk, numTokens: T }); // [T, kvDim]
      matmul(enc, { weight: lw.wv!, x: h, y: bufs.v!, bias: lw.bv, numTokens: T }); // [T, kvDim]
      qBuf = bufs.q!;
      kBuf = bufs.k!;
      vBuf = bufs.v!;
    }
    if (e.positions === 'rope') {
      const common = {
        positions: bufs.positions, turns: w.ropeTurns!, numTokens: T, headDim: c.headDim, ropeDim: c.ropeDim,
        style: c.ropeStyle, magnitude: ropeMagnitude(c), rowStride: qkvStride,
      } as const;
      rope(enc, { ...common, x: qBuf, numHeads: c.numHeads, colOffset: 0 });
      rope(enc, { ...common, x: kBuf, numHeads: c.numKvHeads, colOffset: kOffset });
    }
    kvWrite(enc, {
      k: kBuf, v: vBuf, slotMapping: bufs.slotMapping, kPool: scratch.kPools[0], vPool: scratch.vPools[0], numTokens: T, kvDim,
      kRowStride: qkvStride, kColOffset: kOffset, vRowStride: qkvStride, vColOffset: vOffset, kvType: scratch.kvType,
    });
    pagedAttention(enc, {
      q: qBuf, kPool: scratch.kPools[0], vPool: scratch.vPools[0], tokenMeta: bufs.tokenMeta, blockTables: bufs.blockTables,
      out: bufs.attnOut, numTokens: T, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, qRowStride: qkvStride,
      kvType: scratch.kvType,
    }); // [T, qDim]
    matmul(enc, { weight: lw.wo, x: bufs.attnOut, y: bufs.proj, bias: lw.bo, numTokens: T }); // [T, dim]
    addInPlace(enc, { x: bufs.proj, y: h, n: T * c.dim });
    layerNorm(enc, { x: bufs.proj, weight: lw.attnOutNorm, bias: lw.attnOutNormBias, out: f, numRows: T, rowSize: c.dim, eps });

    // ---- feed-forward ----
    if (lw.wGate) {
      matmul(enc, { weight: lw.wGate, x: f, y: bufs.gate!, numTokens: T }); // [T, ffnDim]
      matmul(enc, { weight: lw.wUp, x: f, y: bufs.up!, numTokens: T }); // [T, ffnDim]
      siluMul(enc, { gate: bufs.gate!, up: bufs.up!, out: bufs.hb!, numRows: T, n: c.ffnDim });
      matmul(enc, { weight: lw.wDown, x: bufs.hb!, y: bufs.proj, numTokens: T }); // [T, dim]
    } else {
      matmul(enc, { weight: lw.wUp, x: f, y: bufs.up!, bias: lw.bUp, numTokens: T }); // [T, ffnDim]
      geluInPlace(enc, { x: bufs.up!, n: T * c.ffnDim });
      matmul(enc, { weight: lw.wDown, x: bufs.up!, y: bufs.proj, bias: lw.bDown, numTokens: T }); // [T, dim]
    }
    addInPlace(enc, { x: bufs.proj, y: f, n: T * c.dim });
    layerNorm(enc, { x: bufs.proj, weight: lw.layerOutNorm, bias: lw.layerOutNormBias, out: h, numRows: T, rowSize: c.dim, eps });
  }
  return h;
}
