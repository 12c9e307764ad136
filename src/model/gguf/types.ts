// GGUF file model: the metadata value types, ggml tensor types and the parsed header.
// Spec: ggml's docs/gguf.md. Offsets are absolute byte offsets into the file.

/** ggml tensor types (ids as stored in GGUF tensor infos). */
export enum GGMLType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
}

/** GGUF metadata value type ids. */
export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/**
 * A metadata value as read. 64-bit integers are `bigint` only when they do not fit
 * in a double exactly; otherwise `number`. Arrays of numbers stay plain arrays,
 * except large numeric arrays (e.g. `tokenizer.ggml.scores`), which may be typed arrays.
 */
export type GGUFValue =
  | number
  | bigint
  | boolean
  | string
  | GGUFValue[]
  | Float32Array
  | Int32Array
  | Uint32Array;

export type GGUFMetadata = Record<string, GGUFValue>;

export interface GGUFTensorInfo {
  name: string;
  type: GGMLType;
  /** ggml order: shape[0] is the innermost (contiguous) dimension, as in the file. */
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
}

export interface GGUFFile {
  version: number;
  metadata: GGUFMetadata;
  /** The metadata value type of each key (useful for round-tripping through writeGGUF). */
  metadataTypes?: Record<string, { type: GGUFValueType; arrayType?: GGUFValueType }>;
  tensors: GGUFTensorInfo[];
  alignment: number;
  /** Absolute byte offset where tensor data starts. */
  dataOffset: number;
  /** Total file size in bytes when known. */
  fileSize?: number;
}

/**
 * Random-access byte source: every reader goes through this, so a multi-GB file is
 * never one ArrayBuffer. `read` returns exactly `length` bytes or throws `truncated`.
 */
export interface ByteSource {
  /** Total size in bytes, when known. */
  readonly size: number | undefined;
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: reads `into.length` bytes at `offset` into `into` and returns it, as `read`
   * would (same checks). A weight upload reads every chunk into one buffer it reuses, where
   * `read` makes a new one per chunk (garbage the GC frees late: ~20 MiB of the load's
   * host memory, bench/load-memory.ts).
   */
  readInto?(offset: number, into: Uint8Array): Promise<Uint8Array>;
  close?(): Promise<void>;
}
