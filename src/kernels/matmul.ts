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
// Fusions (matmul-io.wgsl), the same in every variant: a prologue on x — the RMSNorm
// before the projection (`norm`, its sum of squares recomputed per workgroup in the
// unfused kernel's order) or act(gate)·up from a fused gate|up row (`glu`) — and a
// residual-add epilogue (`accumulate`: y += x · Wᵀ).
import type { GpuWeight } from '../gpu/types';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { typeName, withDequant } from './matmul-dequant';
import blockedBody from './matmul-blocked.wgsl?raw';
import activation from './activation.wgsl?raw';
import io from './matmul-io.wgsl?raw';
import { RMSNORM_WG } from './rmsnorm';
import tiledBody from './matmul-tiled.wgsl?raw';
import vecBody from './matmul-vec.wgsl?raw';

// Each body after the shared Params and bindings (withDequant prepends the dequant code).
const VEC_CODE = activation + io + vecBody;
const TILED_CODE = activation + io + tiledBody;
const BLOCKED_CODE = activation + io + blockedBody;
// matmul-io.wgsl NORM_PARTIALS: the norm prologue sums as rmsnorm.wgsl's workgroup does.
if (RMSNORM_WG !== 64) throw new Error('matmul-io.wgsl NORM_PARTIALS assumes RMSNORM_WG = 64');

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
  // At least 64 vec4: the norm prologue folds 4 tokens × 16 partials there (matmul-vec.wgsl).
  return { lanes, rowsPerWg, sharedVec4: Math.max(VEC_TOKENS_PER_WG * lanes * 8, rowsPerWg * lanes, 64) };
}
const TILE = 64; // matmul-tiled.wgsl: tokens and rows per workgroup tile

/**
 * How the kernel reads x (matmul-io.wgsl): `norm` — x / rms(x) · weight, the RMSNorm that
 * precedes the projection (the bits of rmsNorm / addRmsNorm then an unfused matmul);
 * `glu` — act(x[:, :K]) · x[:, K:], x being a fused gate|up row [T, 2K] (the bits of siluMul).
 */
export type MatmulPrologue = { kind: 'norm'; weight: GPUBuffer; eps: number } | { kind: 'glu'; act: 'silu' | 'gelu' };

export interface MatmulArgs {
  weight: GpuWeight; // [N, K] repacked
  x: GPUBuffer; // [T, K] f32 ([T, 2K] with a glu prologue)
  y: GPUBuffer; // [T, N] f32, must not alias x
  bias?: GPUBuffer; // [N] f32
  prologue?: MatmulPrologue;
  /** y += x · Wᵀ (+ bias): the residual add, y being the residual stream. */
  accumulate?: boolean;
  /**
   * Row length of x when its rows are wider than K (a plain prologue reads their first K
   * values: the software set's down projection over gate|up rows, elementwise.ts gluInPlace).
   * Default K (2K with a glu prologue).
   */
  xStride?: number;
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

/**
 * Whether the forward pass feeds act(gate)·up to the down matmul as its GLU prologue. The GPU
 * set computes it once per staged element per workgroup; the software set's 'blocked' threads
 * read x straight from memory, so each would recompute it for its own 4 rows (N/4 times per
 * element, an exp each: slower than the one pass it saves on SwiftShader). That pass is
 * elementwise.ts gluInPlace, over the gate|up rows (no [T, ffnDim] buffer).
 */
export function usesGluPrologue(software: boolean): boolean {
  return !software;
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
  const pro = a.prologue;
  const xStride = pro?.kind === 'glu' ? 2 * K : (a.xStride ?? K);
  if (!Number.isInteger(xStride) || xStride < K || (pro?.kind === 'glu' && a.xStride !== undefined && a.xStride !== xStride)) {
    throw new KernelArgError('matmul', `xStride ${a.xStride} for K ${K}${pro ? ` with a ${pro.kind} prologue` : ''}`);
  }
  if (a.x.size < T * xStride * 4) throw new KernelArgError('matmul', `x holds ${a.x.size} B, needs [${T}, ${xStride}] f32`);
  if (pro?.kind === 'norm' && (pro.weight.size < K * 4 || !(pro.eps >= 0))) throw new KernelArgError('matmul', `norm weight holds ${pro.weight.size} B (needs [${K}] f32), eps ${pro.eps}`);
  if (a.y.size < T * N * 4) throw new KernelArgError('matmul', `y holds ${a.y.size} B, needs [${T}, ${N}] f32`);
  if (a.bias && a.bias.size < N * 4) throw new KernelArgError('matmul', `bias holds ${a.bias.size} B, needs [${N}] f32`);
  if (T === 0) return;
  const variant = a.variant ?? chooseMatmulVariant(T, enc.ctx.software);
  const tokenGroups = Math.ceil(T / (variant === 'vec' ? VEC_TOKENS_PER_WG : variant === 'blocked' ? BLOCKED_TOKENS : TILE));
  if (tokenGroups > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('matmul', `too many tokens (${T}) for one dispatch`);

  const name = typeName(weight.type);
  const vec = vecShape(K);
  // matmul-io.wgsl Params.prologue: uniforms, so every fusion shares the plain pipeline.
  const prologue = pro === undefined ? 0 : pro.kind === 'norm' ? 1 : pro.act === 'silu' ? 2 : 3;
  const pipeline =
    variant === 'vec'
      ? enc.ctx.pipeline(`matmul-vec/${name}/r${vec.rowsPerWg}x${vec.lanes}`, withDequant(weight.type, 'matmul-vec', VEC_CODE), {
          ROWS_PER_WG: vec.rowsPerWg, LANES: vec.lanes, SHARED_VEC4: vec.sharedVec4,
        })
      : variant === 'blocked'
        ? enc.ctx.pipeline(`matmul-blocked/${name}`, withDequant(weight.type, 'matmul-blocked', BLOCKED_CODE))
        : enc.ctx.pipeline(`matmul-tiled/${name}`, withDequant(weight.type, 'matmul-tiled', TILED_CODE));
  const eps = pro?.kind === 'norm' ? pro.eps : 0;
  for (const part of weight.parts) {
    const groups = Math.ceil(part.rows / (variant === 'vec' ? vec.rowsPerWg : variant === 'blocked' ? BLOCKED_ROWS_PER_WG : TILE));
    const [gx, gy] = splitWorkgroups(groups, a.maxWorkgroupsPerDim);
    const params = enc.uniforms.push('matmul', [T, K, part.rows, N, part.rowStart, part.scaleOffsetWords, gx, a.bias ? 1 : 0, xStride, f32Bits(eps), prologue, a.accumulate ? 1 : 0]);
    // Without a bias (or a norm), x stands in for the unread binding: all are read-only.
    const normWeight = pro?.kind === 'norm' ? pro.weight : a.x;
    const bindings = [part.buffer, a.x, a.bias ?? a.x, a.y, params, normWeight];
    // vec reads the part a second time as vec4<u32> (binding 6, `w4`); the other bodies do
    // not use it, so their 'auto' layouts have no binding 6.
    if (variant === 'vec') bindings.push(part.buffer);
    dispatch(enc, pipeline, bindings, gx, gy, tokenGroups);
  }
}

/**
 * Tokens that one pass over the weights serves: a 'blocked' thread's tokens (software set) or
 * the 'tiled' kernel's tile (GPU set; 'vec', below VEC_MAX_TOKENS, reads them per 4 tokens). A
 * matmul split into runs of this many tokens reads its weights as often as one over all of
 * them (the LM head in groups of sampled rows, gpu/sample-groups.ts).
 */
export function matmulTokenTile(software: boolean): number {
  return software ? BLOCKED_TOKENS : TILE;
}

/** FLOPs of one matmul (for benchmarks): 2·T·N·K. */
export function matmulFlops(weight: GpuWeight, numTokens: number): number {
  return 2 * numTokens * weight.rows * weight.cols;
}
