// The paged KV pool on the GPU: for every layer one K and one V buffer of
// `numBlocks` blocks of KV_BLOCK_SIZE token slots (PagedAttention). The engine's
// KvCacheManager hands out block ids 0..numBlocks-1; the runner writes token t of a
// sequence at slot blockTable[p >> 4] * 16 + (p & 15) and reads through the same table.
//
//   kPools[layer], vPools[layer] : [numBlocks, 16, nKvHeads, headDim] kvType (f32 or f16)
//
// Sizing: numBlocks = floor(kvCacheBytes / bytesPerBlock) where one block takes
// 2 (K, V) x numLayers x 16 x kvDim x (4 bytes f32 | 2 bytes f16), capped so that one
// layer's buffer fits a storage binding and one buffer: the same budget buys an f16
// pool twice the blocks.
import { KV_BLOCK_SIZE } from '../engine/types';
import { kvBytesPerElement, type KvType } from '../kernels/kv-type';
import type { ModelConfig } from '../model/config';
import type { GpuContext } from './context';
import { RunnerError } from './runner-errors';

const MiB = 1 << 20;
/** Largest default budget: enough for dozens of long sequences on small models, not all of a GPU. */
export const DEFAULT_KV_CACHE_MAX_BYTES = 512 * MiB;
/** The default never sizes the pool beyond this many full contexts (memory nobody would use). */
const DEFAULT_MAX_FULL_CONTEXTS = 64;

type BufferLimits = Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>;

export interface KvPoolLayout {
  numBlocks: number;
  /** Bytes of one block across all layers, K and V. */
  bytesPerBlock: number;
  /** Bytes of one layer's K (or V) buffer. */
  bytesPerLayerBuffer: number;
}

/** Bytes of one block in one layer's K (or V): 16 slots x nKvHeads x headDim x kvType. */
function blockBytesPerBuffer(config: ModelConfig, kvType: KvType): number {
  return KV_BLOCK_SIZE * config.numKvHeads * config.headDim * kvBytesPerElement(kvType);
}

/**
 * The default budget: min(512 MiB, a quarter of what the device could hold in one buffer per
 * layer per K/V, DEFAULT_MAX_FULL_CONTEXTS full contexts). An f16 pool gets the same bytes
 * (twice the blocks) unless the full-contexts cap binds, where it gets the same blocks.
 */
export function defaultKvCacheBytes(config: ModelConfig, limits: BufferLimits, kvType: KvType = 'f32'): number {
  const perBuffer = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const deviceShare = Math.floor((perBuffer * 2 * config.numLayers) / 4);
  const bytesPerBlock = 2 * config.numLayers * blockBytesPerBuffer(config, kvType);
  const fullContexts = DEFAULT_MAX_FULL_CONTEXTS * Math.ceil(config.contextLength / KV_BLOCK_SIZE) * bytesPerBlock;
  return Math.min(DEFAULT_KV_CACHE_MAX_BYTES, deviceShare, fullContexts);
}

/** How many blocks a budget buys; throws `kv_cache_too_small` when not even one. */
export function kvPoolLayout(config: ModelConfig, kvCacheBytes: number, limits: BufferLimits, kvType: KvType = 'f32'): KvPoolLayout {
  if (typeof kvCacheBytes !== 'number' || !Number.isFinite(kvCacheBytes) || kvCacheBytes <= 0) {
    throw new RunnerError('bad_kv_cache_bytes', `kvCacheBytes must be a positive number of bytes, got ${kvCacheBytes}`);
  }
  const perBufferBlock = blockBytesPerBuffer(config, kvType);
  const bytesPerBlock = 2 * config.numLayers * perBufferBlock;
  const perBuffer = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const numBlocks = Math.min(Math.floor(kvCacheBytes / bytesPerBlock), Math.floor(perBuffer / perBufferBlock));
  if (numBlocks < 1) {
    throw new RunnerError('kv_cache_too_small', `kvCacheBytes ${kvCacheBytes} holds no KV block (one block over all layers takes ${bytesPerBlock} bytes)`);
  }
  return { numBlocks, bytesPerBlock, bytesPerLayerBuffer: numBlocks * perBufferBlock };
}

export class KvPool {
  readonly numBlocks: number;
  /** Bytes of one block across all layers, K and V. */
  readonly bytesPerBlock: number;
  /** [numLayers] of [numBlocks, 16, nKvHeads, headDim] kvType */
  readonly kPools: GPUBuffer[] = [];
  /** [numLayers] of [numBlocks, 16, nKvHeads, headDim] kvType */
  readonly vPools: GPUBuffer[] = [];
  /** Bytes of one block in one layer's K (or V) buffer. */
  readonly blockBytes: number;
  private copyScratch?: GPUBuffer; // [numCopies, blockBytes] staging for copy-on-write

  constructor(
    private readonly ctx: GpuContext,
    config: ModelConfig,
    kvCacheBytes: number,
    /** Element type of the pool; 'f16' needs a device created with 'shader-f16'. */
    readonly kvType: KvType = 'f32',
  ) {
    const layout = kvPoolLayout(config, kvCacheBytes, ctx.limits, kvType);
    this.numBlocks = layout.numBlocks;
    this.bytesPerBlock = layout.bytesPerBlock;
    this.blockBytes = blockBytesPerBuffer(config, kvType);
    for (let layer = 0; layer < config.numLayers; layer++) {
      this.kPools.push(ctx.storage(`kv-pool:k:layer${layer}`, layout.bytesPerLayerBuffer));
      this.vPools.push(ctx.storage(`kv-pool:v:layer${layer}`, layout.bytesPerLayerBuffer));
    }
  }

  get totalBytes(): number {
    return this.numBlocks * this.bytesPerBlock;
  }

  /** Throws `bad_step_input` unless every copy names two valid, distinct blocks. */
  checkCopies(copies: ReadonlyArray<readonly [number, number]>): void {
    for (const [src, dst] of copies) {
      if (!this.isBlock(src) || !this.isBlock(dst) || src === dst) {
        throw new RunnerError('bad_step_input', `block copy ${src} -> ${dst} is not between two distinct blocks of 0..${this.numBlocks - 1}`);
      }
    }
  }

  /**
   * Records the copy-on-write copies (every layer's K and V) ahead of the step's compute
   * pass. WebGPU forbids copying a buffer onto itself, so blocks go through a scratch
   * buffer: all sources out first, then all destinations in (a copy list whose
   * destination is another copy's source still reads the old contents). Returns the
   * number of copy commands.
   */
  encodeCopies(encoder: GPUCommandEncoder, copies: ReadonlyArray<readonly [number, number]>): number {
    if (copies.length === 0) return 0;
    const need = copies.length * this.blockBytes;
    if (!this.copyScratch || this.copyScratch.size < need) {
      this.copyScratch?.destroy();
      this.copyScratch = this.ctx.buffer('kv-pool:copy-scratch', need, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    }
    const scratch = this.copyScratch;
    const b = this.blockBytes;
    let commands = 0;
    for (const pool of [...this.kPools, ...this.vPools]) {
      copies.forEach(([src], i) => encoder.copyBufferToBuffer(pool, src * b, scratch, i * b, b));
      copies.forEach(([, dst], i) => encoder.copyBufferToBuffer(scratch, i * b, pool, dst * b, b));
      commands += 2 * copies.length;
    }
    return commands;
  }

  private isBlock(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.numBlocks;
  }

  destroy(): void {
    for (const buf of [...this.kPools, ...this.vPools]) buf.destroy();
    this.kPools.length = 0;
    this.vPools.length = 0;
    this.copyScratch?.destroy();
    this.copyScratch = undefined;
  }
}
