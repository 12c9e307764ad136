// The GPU layer's contracts the kernels build on: the context a kernel records into and a
// weight's GPU layout. Kernels (src/kernels/) import these types from here, never the
// files that implement them (test/unit/layers.test.ts keeps it so).
import type { GGMLType } from '../model/gguf/types';

export type { GpuContext, GpuFeatures } from './context';

export interface WeightPart {
  /** [words] u32, repacked rows [rowStart, rowStart + rows); its size rounded up to 16 B (zeros), as the GPU-set matvec also binds it as vec4<u32>. */
  buffer: GPUBuffer;
  rowStart: number;
  rows: number;
  /** Word offset of the segments after segment 0 (side words, then f16 scales) inside `buffer` (0 when the type has none; repack.ts). */
  scaleOffsetWords: number;
  /** Bytes used in `buffer`. */
  byteLength: number;
}

export interface GpuWeight {
  name: string;
  type: GGMLType;
  /** Output rows (N of a matmul, vocab of an embedding): product of GGUF shape[1..]. */
  rows: number;
  /** Elements per row (K of a matmul, dim of an embedding): GGUF shape[0]. */
  cols: number;
  parts: WeightPart[];
  /** Bytes the tensor takes in the GGUF file. */
  fileBytes: number;
  /** Bytes allocated on the GPU for it. */
  gpuBytes: number;
  destroy(): void;
}
