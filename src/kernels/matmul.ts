// Matmul against a GPU weight: y[T, N] = x[T, K] · W[N, K]ᵀ (+ bias[N]), for every
// weight type in repack.ts. Two kernel sets, chosen per context (GpuContext.software),
// never per batch:
//   GPU set — 'vec'   — matrix × vector, 32 lanes per weight row, 4 tokens (decode);
//             'tiled' — 64×64 output tiles, one 32-wide unit of K per step (prefill, batches).
//             Both sum each output as SPLIT_PARTIALS partials (units c, c + 32, … of 32
//             elements) combined by one fixed tree, so they agree bit for bit.
//   software set — 'blocked' — 16 tokens × 4 rows per thread from global memory, no
//             barriers, each output summed in runs of 8 along K (SwiftShader).
// A weight split into parts takes one dispatch per part, each writing its own columns of y.
import type { GpuWeight } from '../gpu/types';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { typeName, withDequant } from './matmul-dequant';
import blockedBody from './matmul-blocked.wgsl?raw';
import io from './matmul-io.wgsl?raw';
import tiledBody from './matmul-tiled.wgsl?raw';
import vecBody from './matmul-vec.wgsl?raw';

// Each body after the shared Params and bindings (withDequant prepends the dequant code).
const VEC_CODE = io + vecBody;
const TILED_CODE = io + tiledBody;
const BLOCKED_CODE = io + blockedBody;

export type MatmulVariant = 'vec' | 'tiled' | 'blocked';

/** Up to this many tokens the matrix × vector kernel wins (it re-reads W once per 4 tokens). */
export const VEC_MAX_TOKENS = 8;
const VEC_TOKENS_PER_WG = 4;
/**
 * Partial sums per output in the GPU set (matmul-vec.wgsl LANES, matmul-tiled.wgsl
 * PARTIALS): a constant of the kernels, never a function of the batch, which is what keeps
 * a token's bits equal alone and inside any batch.
 */
export const SPLIT_PARTIALS = 32;
/** Matrix × vector rows per workgroup at 32 lanes per row (256 invocations). */
export const VEC_ROWS_PER_WG = 8;
const VEC_MAX_ROWS_PER_WG = 32;

/**
 * Lanes per row of the matrix × vector kernel for rows of K elements: 32, or, when K has
 * fewer than 32 units of 32, the next power of two of the unit count — the lanes past it
 * would own no unit, and their partials (exact zeros) enter the tree as constants, so the
 * bits do not change. Fewer lanes, more rows per workgroup (up to 32) and workgroup memory
 * sized to what is staged: on SwiftShader a workgroup costs about its workgroup-memory size
 * (Dawn zero-fills it per workgroup), and stories260K (K = 64) ran 16 KiB workgroups with 2
 * busy lanes of 32 per row (K = 64, N = 512: 813 ms per dispatch, now ~3-10 ms).
 */
export function vecShape(K: number): { lanes: number; rowsPerWg: number; sharedVec4: number } {
  const units = Math.max(1, Math.ceil(K / 32));
  const lanes = Math.min(SPLIT_PARTIALS, 2 ** Math.ceil(Math.log2(units)));
  const rowsPerWg = Math.min(VEC_MAX_ROWS_PER_WG, (VEC_ROWS_PER_WG * SPLIT_PARTIALS) / lanes);
  return { lanes, rowsPerWg, sharedVec4: Math.max(VEC_TOKENS_PER_WG * lanes * 8, rowsPerWg * lanes) };
}
const TILE = 64; // matmul-tiled.wgsl: tokens and rows per workgroup tile

export interface MatmulArgs {
  weight: GpuWeight; // [N, K] repacked
  x: GPUBuffer; // [T, K] f32
  y: GPUBuffer; // [T, N] f32, must not alias x
  bias?: GPUBuffer; // [N] f32
  numTokens: number; // T
  /** Default: chooseMatmulVariant(numTokens, ctx.software). */
  variant?: MatmulVariant;
  /** Per-dimension workgroup limit (default 65535); tests lower it to exercise the x/y split. */
  maxWorkgroupsPerDim?: number;
}

const BLOCKED_TOKENS = 16; // matmul-blocked.wgsl: tokens per thread (TOKENS)
const BLOCKED_ROWS_PER_WG = 4 * 64; // 4 rows per thread, 64 threads

/**
 * The variant for a batch of `numTokens`. 'vec' and 'tiled' sum in the same order, so the
 * choice between them never changes a token's output. On software adapters (SwiftShader),
 * where barriers and per-lane weight reads are expensive, 'blocked' wins at every batch
 * size measured (1 to 256 tokens; bench/step-profile.ts) and runs alone.
 */
export function chooseMatmulVariant(numTokens: number, software = false): MatmulVariant {
  if (software) return 'blocked';
  return numTokens <= VEC_MAX_TOKENS ? 'vec' : 'tiled';
}

/** Splits `count` workgroups over x and y so that neither exceeds the per-dimension limit. */
export function splitWorkgroups(count: number, maxPerDim = MAX_WORKGROUPS_PER_DIM): [number, number] {
  const x = Math.min(count, maxPerDim);
  return [x, Math.ceil(count / x)];
}

export function matmul(enc: KernelEncoder, a: MatmulArgs): void {
  const { weight, numTokens: T } = a;
  const N = weight.rows;
  const K = weight.cols;
  if (!Number.isInteger(T) || T < 0) throw new KernelArgError('matmul', `bad numTokens ${T}`);
  if (a.x === a.y) throw new KernelArgError('matmul', 'y must not alias x');
  if (a.x.size < T * K * 4) throw new KernelArgError('matmul', `x holds ${a.x.size} B, needs [${T}, ${K}] f32`);
  if (a.y.size < T * N * 4) throw new KernelArgError('matmul', `y holds ${a.y.size} B, needs [${T}, ${N}] f32`);
  if (a.bias && a.bias.size < N * 4) throw new KernelArgError('matmul', `bias holds ${a.bias.size} B, needs [${N}] f32`);
  if (T === 0) return;
  const variant = a.variant ?? chooseMatmulVariant(T, enc.ctx.software);
  const tokenGroups = Math.ceil(T / (variant === 'vec' ? VEC_TOKENS_PER_WG : variant === 'blocked' ? BLOCKED_TOKENS : TILE));
  if (tokenGroups > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('matmul', `too many tokens (${T}) for one dispatch`);

  const name = typeName(weight.type);
  const vec = vecShape(K);
  const pipeline =
    variant === 'vec'
      ? enc.ctx.pipeline(`matmul-vec/${name}/r${vec.rowsPerWg}x${vec.lanes}`, withDequant(weight.type, 'matmul-vec', VEC_CODE), {
          ROWS_PER_WG: vec.rowsPerWg, LANES: vec.lanes, SHARED_VEC4: vec.sharedVec4,
        })
      : variant === 'blocked'
        ? enc.ctx.pipeline(`matmul-blocked/${name}`, withDequant(weight.type, 'matmul-blocked', BLOCKED_CODE))
        : enc.ctx.pipeline(`matmul-tiled/${name}`, withDequant(weight.type, 'matmul-tiled', TILED_CODE));
  for (const part of weight.parts) {
    const groups = Math.ceil(part.rows / (variant === 'vec' ? vec.rowsPerWg : variant === 'blocked' ? BLOCKED_ROWS_PER_WG : TILE));
    const [gx, gy] = splitWorkgroups(groups, a.maxWorkgroupsPerDim);
    const params = enc.uniforms.push('matmul', [T, K, part.rows, N, part.rowStart, part.scaleOffsetWords, gx, a.bias ? 1 : 0]);
    // Without a bias, x stands in for the (unread) bias binding: both are read-only.
    dispatch(enc, pipeline, [part.buffer, a.x, a.bias ?? a.x, a.y, params], gx, gy, tokenGroups);
  }
}

/** FLOPs of one matmul (for benchmarks): 2·T·N·K. */
export function matmulFlops(weight: GpuWeight, numTokens: number): number {
  return 2 * numTokens * weight.rows * weight.cols;
}
