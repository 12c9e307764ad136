// Matmul against a GPU weight: y[T, N] = x[T, K] · W[N, K]ᵀ (+ bias[N]), for every
// weight type in repack.ts. Two kernel sets, chosen per context (GpuContext.software),
// never per batch:
//   GPU set — 'vec'   — matrix × vector, 32 lanes per weight row, 4 tokens (decode);
//             'tiled' — 64-token × 64-row output tiles (4×4 per thread), one 32-wide unit of K
//             per step (prefill, batches), split-K over 2, 4 or 8 workgroups per tile when
//             few tiles would keep the GPU busy (chooseSplitK) and the caller gives a scratch
//             buffer; 128-token tiles (8×4 per thread) when there are tiles enough
//             (chooseTiledTokens).
//             Both sum each output as SPLIT_PARTIALS partials (units c, c + 32, … of 32
//             elements) combined by one fixed tree, so they agree bit for bit, split or not.
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
import splitkCode from './matmul-splitk.wgsl?raw';
import tiledBody from './matmul-tiled.wgsl?raw';
import tiledOut from './matmul-tiled-out.wgsl?raw';
import vecBody from './matmul-vec.wgsl?raw';

// Each body after the shared Params and bindings (withDequant prepends the dequant code).
const VEC_CODE = activation + io + vecBody;
const COMBINE_CODE = activation + io + splitkCode;
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
const TILE = 64; // matmul-tiled.wgsl: rows per workgroup tile, and tokens at 4 tokens per thread
const THREAD_ROWS = 16; // matmul-tiled.wgsl: 16 × 16 threads, tokens ly + 16i

/**
 * Tokens per thread of the tiled kernel (matmul-tiled.wgsl TOKENS_PER_THREAD), 4 rows each:
 * 4 (64-token tiles) or 8 (128-token tiles: each staged weight serves twice the tokens, for
 * twice the registers — the partial tree holds 6 tiles of 8 × 4 f32 per thread). The same
 * bits either way.
 */
const TILED_TOKENS_PER_THREAD = [4, 8] as const;
export type TiledTokensPerThread = (typeof TILED_TOKENS_PER_THREAD)[number];
/** Tokens per tile of the 8 × 4 register tile. */
export const WIDE_TILE_TOKENS = 8 * THREAD_ROWS;

/** The tiled kernel's WGSL for a register tile and split (withDequant prepends the dequant code). */
function tiledCode(tokensPerThread: TiledTokensPerThread, split: boolean): string {
  // A const, not an override: the body's per-thread arrays need a const size.
  return `const TOKENS_PER_THREAD: u32 = ${tokensPerThread}u;\n${activation}${io}${split ? splitkCode : tiledOut}${tiledBody}`;
}
/** [unsplit, split] per register tile, built once (a step records many matmuls). */
const TILED_CODE: Record<TiledTokensPerThread, [string, string]> = {
  4: [tiledCode(4, false), tiledCode(4, true)],
  8: [tiledCode(8, false), tiledCode(8, true)],
};

/**
 * The register tile for a tiled [T, K] × [N, K]ᵀ matmul (GPU set): 8 tokens per thread when
 * the batch fills a 128-token tile and the dispatch still has SPLITK_TARGET_WORKGROUPS
 * workgroups with tiles that large (it halves the workgroup count: a 64-token tile count
 * under the target leaves cores idle, and there the 4 × 4 tile and split-K serve better);
 * else 4. Monotonic in T, so the load's dry runs (largest planned count) reach the 8 × 4
 * pipeline whenever any step can; and where it picks 8, chooseSplitK picks 1 (64-token
 * tiles are no fewer). Since every tile sums the same tree, the choice never moves a bit.
 */
export function chooseTiledTokens(N: number, T: number): TiledTokensPerThread {
  return T >= WIDE_TILE_TOKENS && Math.ceil(N / TILE) * Math.ceil(T / WIDE_TILE_TOKENS) >= SPLITK_TARGET_WORKGROUPS ? 8 : 4;
}

/** Workgroups per output tile of the tiled kernel: 1 (unsplit), 2, 4 or 8. */
const SPLIT_KS = [1, 2, 4, 8] as const;
export type SplitK = (typeof SPLIT_KS)[number];
const MAX_SPLIT_K = SPLIT_KS[SPLIT_KS.length - 1];
/**
 * Split-K aims for at least this many workgroups per dispatch: tile counts under it leave
 * most of a GPU's cores idle (a discrete GPU runs 30–130 compute units of several
 * workgroups each), e.g. Qwen2.5-0.5B's k/v projections (N = 128: 2 row tiles) on a
 * 64-token prompt run 2 workgroups unsplit.
 */
export const SPLITK_TARGET_WORKGROUPS = 128;
const SPLITK_COMBINE_WG = 256; // matmul-splitk.wgsl COMBINE_WG
/**
 * Scratch that every split chooseSplitK picks fits in: it splits only while row tiles ×
 * token tiles × S < SPLITK_TARGET_WORKGROUPS, so S · T · N ≤ 2 · target · 64 · 64 floats.
 * A constant: StepBuffers allocates it once, whatever the batch capacity.
 */
export const SPLITK_SCRATCH_BYTES = 2 * SPLITK_TARGET_WORKGROUPS * TILE * TILE * 4;

/**
 * Workgroups per output tile for the tiled kernel on a [T, K] × [N, K]ᵀ matmul (GPU set):
 * doubled from 1 while the dispatch has fewer than SPLITK_TARGET_WORKGROUPS workgroups and
 * every one of the split's groups of partials still owns units of K (a group past the
 * units would only add zeros). The bits never depend on the choice: every S sums the same
 * tree (matmul-splitk.wgsl), so taking T into account is free of batch effects.
 */
export function chooseSplitK(N: number, K: number, T: number, software = false): SplitK {
  if (software) return 1;
  const tiles = Math.ceil(N / TILE) * Math.ceil(T / TILE);
  const units = Math.ceil(K / 32);
  let s = 1;
  // The last group of 2s starts at partial 32 − 32/(2s): it owns a unit when units exceed that.
  while (s < MAX_SPLIT_K && tiles * s < SPLITK_TARGET_WORKGROUPS && units > SPLIT_PARTIALS - SPLIT_PARTIALS / (2 * s)) s *= 2;
  return s as SplitK;
}

/** Bytes of split-K scratch a matmul needs: [S, T, N] f32 subtree sums (0 unsplit). */
export function splitKScratchBytes(splitK: SplitK, T: number, N: number): number {
  return splitK === 1 ? 0 : splitK * T * N * 4;
}

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
  /**
   * [≥ S · T · N] f32 scratch for split-K (the runner's StepBuffers.splitKScratch, of
   * SPLITK_SCRATCH_BYTES): with it, the tiled variant splits as chooseSplitK says; without
   * it, it runs unsplit — the same bits either way.
   */
  splitScratch?: GPUBuffer;
  /** Forces the split (tiled variant; needs splitScratch): tests and the bench. */
  splitK?: SplitK;
  /** Forces the tiled kernel's register tile (default chooseTiledTokens, or 4 when split): tests and the bench. */
  tokensPerThread?: TiledTokensPerThread;
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
  if (a.splitK !== undefined && (variant !== 'tiled' || !(SPLIT_KS as readonly number[]).includes(a.splitK))) {
    throw new KernelArgError('matmul', `splitK ${a.splitK} needs the tiled variant and one of 1, 2, 4, 8`);
  }
  if (a.tokensPerThread !== undefined && (variant !== 'tiled' || !(TILED_TOKENS_PER_THREAD as readonly number[]).includes(a.tokensPerThread))) {
    throw new KernelArgError('matmul', `tokensPerThread ${a.tokensPerThread} needs the tiled variant and 4 or 8`);
  }
  const splitK = variant !== 'tiled' ? 1 : (a.splitK ?? (a.splitScratch ? chooseSplitK(N, K, T, enc.ctx.software) : 1));
  const tokensPerThread = a.tokensPerThread ?? (splitK === 1 ? chooseTiledTokens(N, T) : 4);
  const tiledTokens = THREAD_ROWS * tokensPerThread;
  const tokenGroups = Math.ceil(T / (variant === 'vec' ? VEC_TOKENS_PER_WG : variant === 'blocked' ? BLOCKED_TOKENS : tiledTokens));
  if (tokenGroups > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('matmul', `too many tokens (${T}) for one dispatch`);
  const scratchBytes = splitKScratchBytes(splitK, T, N);
  if (scratchBytes > 0 && (!a.splitScratch || a.splitScratch.size < scratchBytes)) {
    throw new KernelArgError('matmul', `split-K ${splitK} needs ${scratchBytes} B of splitScratch, has ${a.splitScratch?.size ?? 0}`);
  }
  if (a.splitScratch && (a.splitScratch === a.x || a.splitScratch === a.y)) throw new KernelArgError('matmul', 'splitScratch must not alias x or y');
  if (splitK > 1 && (tokenGroups * splitK > MAX_WORKGROUPS_PER_DIM || Math.ceil((T * N) / SPLITK_COMBINE_WG) > MAX_WORKGROUPS_PER_DIM)) {
    throw new KernelArgError('matmul', `split-K ${splitK} of [${T}, ${N}] outputs needs more workgroups than one dispatch holds`);
  }

  const name = typeName(weight.type);
  const vec = vecShape(K);
  // matmul-io.wgsl Params.prologue: uniforms, so every fusion shares the plain pipeline;
  // the software set's blocked body also takes it as a constant (one pipeline per prologue).
  const prologue = pro === undefined ? 0 : pro.kind === 'norm' ? 1 : pro.act === 'silu' ? 2 : 3;
  const pipeline =
    variant === 'vec'
      ? enc.ctx.pipeline(`matmul-vec/${name}/r${vec.rowsPerWg}x${vec.lanes}`, withDequant(weight.type, 'matmul-vec', VEC_CODE), {
          ROWS_PER_WG: vec.rowsPerWg, LANES: vec.lanes, SHARED_VEC4: vec.sharedVec4,
        })
      : variant === 'blocked'
        ? enc.ctx.pipeline(`matmul-blocked/${name}/p${prologue}`, withDequant(weight.type, 'matmul-blocked', BLOCKED_CODE), { PROLOGUE: prologue })
        : tiledPipeline(enc, weight.type, tokensPerThread, splitK);
  const eps = pro?.kind === 'norm' ? pro.eps : 0;
  // Without a bias (or a norm), x stands in for the unread binding: all are read-only.
  const normWeight = pro?.kind === 'norm' ? pro.weight : a.x;
  const paramWords = (rows: number, rowStart: number, scaleOff: number, gx: number) =>
    [T, K, rows, N, rowStart, scaleOff, gx, a.bias ? 1 : 0, xStride, f32Bits(eps), prologue, a.accumulate ? 1 : 0];
  for (const part of weight.parts) {
    const groups = Math.ceil(part.rows / (variant === 'vec' ? vec.rowsPerWg : variant === 'blocked' ? BLOCKED_ROWS_PER_WG : TILE));
    const [gx, gy] = splitWorkgroups(groups, a.maxWorkgroupsPerDim);
    const params = enc.uniforms.push('matmul', paramWords(part.rows, part.rowStart, part.scaleOffsetWords, gx));
    const bindings = [part.buffer, a.x, a.bias ?? a.x, a.y, params, normWeight];
    // vec reads the part a second time as vec4<u32> (binding 6, `w4`); a split tiled body
    // binds its scratch there instead (matmul-splitk.wgsl); the other bodies use neither, so
    // their 'auto' layouts have no binding 6.
    if (variant === 'vec') dispatch(enc, pipeline, [...bindings, part.buffer], gx, gy, tokenGroups);
    else if (splitK === 1) dispatch(enc, pipeline, bindings, gx, gy, tokenGroups);
    else dispatch(enc, pipeline, [...bindings, a.splitScratch!], gx, gy, tokenGroups * splitK); // z: token tile × split
  }
  if (splitK > 1) {
    // One combine over every output column (all parts): scratch [S, T, N] → y [T, N].
    const combine = enc.ctx.pipeline(`matmul-splitk-combine/split${splitK}`, COMBINE_CODE, { SPLIT: splitK }, 'combine');
    const part = weight.parts[0];
    const params = enc.uniforms.push('matmul', paramWords(N, 0, 0, 1));
    dispatch(enc, combine, [part.buffer, a.x, a.bias ?? a.x, a.y, params, normWeight, a.splitScratch!], Math.ceil((T * N) / SPLITK_COMBINE_WG));
  }
}

/** The tiled kernel's pipeline: `matmul-tiled/<type>[/t8][/splitS]`. */
function tiledPipeline(enc: KernelEncoder, type: GpuWeight['type'], tokensPerThread: TiledTokensPerThread, splitK: SplitK): GPUComputePipeline {
  const tile = tokensPerThread === 4 ? '' : `/t${tokensPerThread}`;
  const body = `matmul-tiled${tile}${splitK === 1 ? '' : '-split'}`;
  const code = withDequant(type, body, TILED_CODE[tokensPerThread][splitK === 1 ? 0 : 1]);
  return splitK === 1
    ? enc.ctx.pipeline(`matmul-tiled/${typeName(type)}${tile}`, code)
    : enc.ctx.pipeline(`matmul-tiled/${typeName(type)}${tile}/split${splitK}`, code, { SPLIT: splitK });
}

/**
 * Tokens that one pass over the weights serves: a 'blocked' thread's tokens (software set) or
 * the 'tiled' kernel's 4 × 4 tile of 64 tokens (GPU set; 'vec', below VEC_MAX_TOKENS, reads them
 * per 4 tokens). A matmul split into runs of this many tokens reads its weights as often as one
 * over all of them (the LM head in groups of sampled rows, gpu/sample-groups.ts). The 8 × 4
 * tile (128 tokens) starts only at WIDE_TILE_TOKENS, so a group of 64 rows never misses it;
 * groups of 128 would double the logits buffer for a tile that only pays on large N × T.
 */
export function matmulTokenTile(software: boolean): number {
  return software ? BLOCKED_TOKENS : TILE;
}

/** FLOPs of one matmul (for benchmarks): 2·T·N·K. */
export function matmulFlops(weight: GpuWeight, numTokens: number): number {
  return 2 * numTokens * weight.rows * weight.cols;
}
