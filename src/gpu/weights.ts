// Weights on the GPU: one GGUF tensor → one or more storage buffers of repacked rows
// (see repack.ts for the layouts). Tensors are streamed from byte ranges in chunks
// of rows, never as one ArrayBuffer of the file; a tensor larger than one storage
// binding is split by rows into parts, each a buffer of its own.
//
//   tensor [rows, cols] (GGUF shape [cols, rows...], cols innermost)
//   ├─ part 0: rows [0, r1)      buffer: [seg0 words | side words | f16 scales] u32
//   ├─ part 1: rows [r1, r2)     ...
import { assertFiniteWeights } from '../model/gguf/finite';
import type { ByteSource, GGUFTensorInfo } from '../model/gguf/types';
import { GGMLType } from '../model/gguf/types';
import type { GpuContext } from './context';
import { dryBuffer } from './dry-buffer';
import type { GpuWeight, WeightPart } from './types';
import { chunkPlacement, ggufRowBytes, quantLayout, repackedSize, repackRows } from './repack';

export type { GpuWeight, WeightPart } from './types';

export interface UploadOptions {
  /** Largest part buffer in bytes. Default: min(maxStorageBufferBindingSize, maxBufferSize). */
  maxPartBytes?: number;
  /** Rows read and repacked at a time (bounds host memory). Default: ~4 MiB of rows. */
  chunkBytes?: number;
  /** Host buffers reused across chunks (and across the tensors of a load); default: new ones per chunk. */
  scratch?: UploadScratch;
}

/**
 * The host memory one load streams its tensors through: the bytes of a chunk as read and
 * as repacked. TensorLoader keeps one for the whole load (its chunks are read one after
 * another), so a load allocates a few MiB once instead of two new arrays per chunk, which
 * the GC frees late (bench/load-memory.ts: ~20 MiB less peak host memory).
 */
export class UploadScratch {
  private read = new ArrayBuffer(0);
  private packed = new ArrayBuffer(0);

  /** A buffer of exactly `length` bytes to read a chunk into (contents: whatever was there). */
  readBuffer(length: number): Uint8Array {
    if (this.read.byteLength < length) this.read = new ArrayBuffer(length);
    return new Uint8Array(this.read, 0, length);
  }

  /** At least `bytes` bytes for repackRows to write into. */
  packBuffer(bytes: number): ArrayBuffer {
    if (this.packed.byteLength < bytes) this.packed = new ArrayBuffer(bytes);
    return this.packed;
  }
}

export class WeightError extends Error {
  override readonly name = 'WeightError';
  constructor(
    readonly code: 'bad_shape' | 'tensor_too_large' | 'short_read',
    message: string,
  ) {
    super(message);
  }
}

/** Reads `length` bytes at `offset` relative to the tensor's first byte. */
export type TensorReader = (offset: number, length: number) => Promise<Uint8Array>;

const DEFAULT_CHUNK_BYTES = 4 << 20;

/**
 * writeBuffer copies into staging memory that the implementation frees only once the queue
 * has caught up; a load that never waits keeps up to the whole file staged on top of the
 * buffers (host RAM on software adapters and unified-memory GPUs). Waiting for the queue
 * after every STAGING_FLUSH_BYTES written (counted per device, across tensors) bounds that.
 */
const STAGING_FLUSH_BYTES = 16 << 20;
const stagedBytes = new WeakMap<GPUDevice, number>();

async function writeStaged(ctx: GpuContext, buffer: GPUBuffer, offset: number, data: ArrayBuffer, dataOffset: number, size: number): Promise<void> {
  ctx.device.queue.writeBuffer(buffer, offset, data, dataOffset, size);
  const staged = (stagedBytes.get(ctx.device) ?? 0) + size;
  if (staged < STAGING_FLUSH_BYTES) {
    stagedBytes.set(ctx.device, staged);
    return;
  }
  stagedBytes.set(ctx.device, 0);
  await ctx.device.queue.onSubmittedWorkDone();
}

/** Allowed GPU/file byte ratio (repack rounds to words and stores odd scale counts in a whole word). */
export const MAX_GPU_BYTES_RATIO = 1.05;

function rowsAndCols(name: string, shape: readonly number[]): { rows: number; cols: number } {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new WeightError('bad_shape', `tensor ${name}: bad shape [${shape.join(', ')}]`);
  }
  return { cols: shape[0], rows: shape.slice(1).reduce((a, b) => a * b, 1) };
}

/**
 * Bytes of a part buffer holding `words`: rounded up to 16 (zeros), since the GPU-set matvec
 * also binds the part as array<vec4<u32>> (matmul-dequant-common.wgsl `w4`): a binding of it
 * needs at least 16 B (a tiny tensor has fewer), and every word then lies in a whole vec4.
 */
export function partBufferBytes(words: number): number {
  return Math.ceil(words / 4) * 16;
}

/** How a tensor is split into part buffers and read in chunks (uploadWeight, plannedWeight). */
interface PartPlan {
  rows: number;
  cols: number;
  rowBytes: number;
  blocksPerRow: number;
  /** Rows of every part but the last. */
  rowsPerPart: number;
  /** Rows read and repacked at a time. */
  chunkRows: number;
}

function planParts(ctx: GpuContext, name: string, type: GGMLType, shape: readonly number[], options: UploadOptions): PartPlan {
  const { rows, cols } = rowsAndCols(name, shape);
  const layout = quantLayout(type);
  const rowBytes = ggufRowBytes(type, cols);
  const blocksPerRow = cols / layout.blockElems;
  // Chunks must hold an even number of blocks so that their f16 scales (two per
  // word) and F16/BF16 halves start on a word boundary.
  const rowAlign = blocksPerRow % 2 === 1 ? 2 : 1;
  const maxPartBytes = options.maxPartBytes ?? Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  // Repacked rows take rowBytes each plus ≤ 8 bytes of word rounding per part, and the
  // buffer is padded to 16 bytes (partBufferBytes), so count in whole 16-byte units.
  let rowsPerPart = Math.floor((Math.floor(maxPartBytes / 16) * 16 - 8) / rowBytes);
  if (rowsPerPart > rowAlign) rowsPerPart -= rowsPerPart % rowAlign;
  if (rowsPerPart < rowAlign) {
    throw new WeightError('tensor_too_large', `tensor ${name}: one row (${rowBytes} B) does not fit a ${maxPartBytes} B binding`);
  }
  let chunkRows = Math.max(rowAlign, Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / rowBytes));
  chunkRows -= chunkRows % rowAlign;
  return { rows, cols, rowBytes, blocksPerRow, rowsPerPart, chunkRows };
}

function weightOf(name: string, type: GGMLType, plan: PartPlan, parts: WeightPart[]): GpuWeight {
  return {
    name,
    type,
    rows: plan.rows,
    cols: plan.cols,
    parts,
    fileBytes: plan.rows * plan.rowBytes,
    gpuBytes: parts.reduce((s, p) => s + p.buffer.size, 0),
    destroy: () => parts.forEach((p) => p.buffer.destroy()),
  };
}

/**
 * The weight uploadWeight would make, with dry buffers (dry-buffer.ts) of the same sizes
 * and nothing read or allocated: what the runner records its pipeline plan with before
 * the first byte is uploaded (runner.ts createGpuRunner).
 */
export function plannedWeight(ctx: GpuContext, name: string, type: GGMLType, shape: readonly number[], options: UploadOptions = {}): GpuWeight {
  const plan = planParts(ctx, name, type, shape, options);
  const parts: WeightPart[] = [];
  for (let rowStart = 0; rowStart < plan.rows; rowStart += plan.rowsPerPart) {
    const partRows = Math.min(plan.rowsPerPart, plan.rows - rowStart);
    const { totalWords, scaleOffsetWords } = repackedSize(type, partRows, plan.cols);
    parts.push({ buffer: dryBuffer(`weight:${name}:part${parts.length}`, partBufferBytes(totalWords)), rowStart, rows: partRows, scaleOffsetWords, byteLength: totalWords * 4 });
  }
  return weightOf(name, type, plan, parts);
}

/** Uploads a tensor whose bytes come from `read`; `shape` in GGUF order. */
export async function uploadWeight(
  ctx: GpuContext,
  name: string,
  type: GGMLType,
  shape: readonly number[],
  read: TensorReader,
  options: UploadOptions = {},
): Promise<GpuWeight> {
  const plan = planParts(ctx, name, type, shape, options);
  const { rows, cols, rowBytes, blocksPerRow, rowsPerPart, chunkRows } = plan;

  const parts: WeightPart[] = [];
  try {
    for (let rowStart = 0; rowStart < rows; rowStart += rowsPerPart) {
      const partRows = Math.min(rowsPerPart, rows - rowStart);
      const { totalWords, scaleOffsetWords } = repackedSize(type, partRows, cols);
      const buffer = ctx.storage(`weight:${name}:part${parts.length}`, partBufferBytes(totalWords));
      parts.push({ buffer, rowStart, rows: partRows, scaleOffsetWords, byteLength: totalWords * 4 });
      for (let r = 0; r < partRows; r += chunkRows) {
        const n = Math.min(chunkRows, partRows - r);
        const bytes = await read((rowStart + r) * rowBytes, n * rowBytes);
        if (bytes.length !== n * rowBytes) {
          throw new WeightError('short_read', `tensor ${name}: read ${bytes.length} of ${n * rowBytes} bytes`);
        }
        const packed = repackRows(type, bytes, n, cols, options.scratch?.packBuffer(repackedSize(type, n, cols).totalWords * 4));
        // each segment of the chunk (quants, side words, f16 halves) into its place in the part
        for (const seg of chunkPlacement(type, partRows * blocksPerRow, r * blocksPerRow, n * blocksPerRow)) {
          await writeStaged(ctx, buffer, seg.dst * 4, packed.words.buffer, seg.src * 4, seg.words * 4);
        }
      }
    }
  } catch (e) {
    for (const p of parts) p.buffer.destroy();
    throw e;
  }

  const weight = weightOf(name, type, plan, parts);
  // Invariant of the layouts in repack.ts, not an input error.
  if (weight.gpuBytes > weight.fileBytes * MAX_GPU_BYTES_RATIO + 20 * parts.length) {
    throw new Error(`internal: ${name} takes ${weight.gpuBytes} B on the GPU for ${weight.fileBytes} B in the file`);
  }
  return weight;
}

/**
 * Uploads tensor `info` from a GGUF byte source, reading only its byte range. Each chunk is
 * checked for NaN/Inf while it is in memory anyway (finite.ts): `invalid_weights`, naming the tensor.
 */
export function uploadTensor(ctx: GpuContext, source: ByteSource, info: GGUFTensorInfo, options?: UploadOptions): Promise<GpuWeight> {
  const scratch = options?.scratch;
  const read: TensorReader = async (off, len) => {
    const bytes = scratch && source.readInto ? await source.readInto(info.offset + off, scratch.readBuffer(len)) : await source.read(info.offset + off, len);
    assertFiniteWeights(info.name, info.type, bytes, off);
    return bytes;
  };
  return uploadWeight(ctx, info.name, info.type, info.shape, read, options);
}

/** Uploads a tensor already in memory (tests, generated models). */
export function uploadWeightBytes(
  ctx: GpuContext,
  name: string,
  type: GGMLType,
  shape: readonly number[],
  bytes: Uint8Array,
  options?: UploadOptions,
): Promise<GpuWeight> {
  return uploadWeight(ctx, name, type, shape, async (off, len) => bytes.subarray(off, off + len), options);
}

/**
 * Uploads several tensors of one type and row length as ONE weight whose rows are theirs,
 * in order (load-time fusion: q, k, v → qkv; gate, up → gate|up), so one matmul replaces
 * several. Each chunk is read from the tensors' own byte ranges (never the whole file)
 * and checked for NaN/Inf under the tensor's own name.
 */
export function uploadConcatenated(
  ctx: GpuContext,
  source: ByteSource,
  name: string,
  infos: readonly GGUFTensorInfo[],
  options?: UploadOptions,
): Promise<GpuWeight> {
  const { type } = infos[0];
  const cols = infos[0].shape[0];
  const rowBytes = ggufRowBytes(type, cols);
  let totalRows = 0;
  const ranges = infos.map((info) => {
    const { rows, cols: c } = rowsAndCols(info.name, info.shape);
    // The caller picks fusable tensors (model-weights.ts canConcatenate); anything else is a bug.
    if (info.type !== type || c !== cols) throw new Error(`internal: ${info.name} cannot be concatenated with ${infos[0].name}`);
    const range = { info, start: totalRows * rowBytes, end: (totalRows + rows) * rowBytes };
    totalRows += rows;
    return range;
  });
  const scratch = options?.scratch;
  const read: TensorReader = async (off, len) => {
    // With a scratch buffer, each tensor's range is read straight into its place in the chunk.
    const into = scratch && source.readInto ? scratch.readBuffer(len) : undefined;
    const pieces: Uint8Array[] = [];
    for (const r of ranges) {
      const from = Math.max(off, r.start);
      const to = Math.min(off + len, r.end);
      if (from >= to) continue;
      const at = from - off;
      const bytes = into
        ? await source.readInto!(r.info.offset + (from - r.start), into.subarray(at, at + to - from))
        : await source.read(r.info.offset + (from - r.start), to - from);
      assertFiniteWeights(r.info.name, r.info.type, bytes, from - r.start);
      pieces.push(bytes);
    }
    if (into) return into;
    if (pieces.length === 1) return pieces[0];
    const out = new Uint8Array(pieces.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of pieces) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  };
  return uploadWeight(ctx, name, type, [cols, totalRows], read, options);
}
