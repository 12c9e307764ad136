// GGUF writer: metadata (inferred or explicit value types) and tensors (Float32Array data is
// quantized to the requested type; Uint8Array data is taken as already-encoded blocks).
// Produces one Uint8Array — meant for tests, fixtures and small models, not multi-GB files.
import { GGUFError } from './errors';
import { tensorByteLength, typeName, typeTraits } from './quant';
import { quantize } from './quantize';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS } from './reader';
import { GGMLType, GGUFValueType, type GGUFFile } from './types';

/** A metadata value with its GGUF type spelled out (e.g. UINT64, or an INT32 array). */
export interface TypedMetaValue {
  type: GGUFValueType;
  /** Element type when `type` is ARRAY. */
  arrayType?: GGUFValueType;
  value: MetaInput;
}

export type MetaInput =
  | string
  | boolean
  | number
  | bigint
  | Float32Array
  | Int32Array
  | Uint32Array
  | TypedMetaValue
  | MetaInput[];

export interface TensorInput {
  name: string;
  type: GGMLType;
  /** ggml order: shape[0] is the contiguous dimension. */
  shape: number[];
  /** Float32Array: values to encode as `type`; Uint8Array: bytes already in `type`'s layout. */
  data: Float32Array | Uint8Array;
}

export interface WriteGGUFInput {
  metadata: Record<string, MetaInput>;
  /** Types for metadata keys (e.g. `GGUFFile.metadataTypes` of a file that was read). */
  metadataTypes?: GGUFFile['metadataTypes'];
  tensors?: TensorInput[];
  /** Tensor data alignment; written as `general.alignment` when not 32. */
  alignment?: number;
  version?: 2 | 3;
}

function isTyped(value: MetaInput): value is TypedMetaValue {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && 'type' in value && 'value' in value;
}

function inferNumberType(values: ArrayLike<number>): GGUFValueType {
  let allInt = true;
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) allInt = false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!allInt) return GGUFValueType.FLOAT32;
  if (min >= -0x80000000 && max <= 0x7fffffff) return GGUFValueType.INT32;
  if (min >= 0 && max <= 0xffffffff) return GGUFValueType.UINT32;
  return min < 0 ? GGUFValueType.INT64 : GGUFValueType.UINT64;
}

/** The GGUF type a value gets when none is given. */
function inferType(value: MetaInput, key: string): { type: GGUFValueType; arrayType?: GGUFValueType } {
  if (isTyped(value)) return { type: value.type, arrayType: value.arrayType };
  if (typeof value === 'string') return { type: GGUFValueType.STRING };
  if (typeof value === 'boolean') return { type: GGUFValueType.BOOL };
  if (typeof value === 'number') return { type: inferNumberType([value]) };
  if (typeof value === 'bigint') return { type: value > 0x7fffffffffffffffn ? GGUFValueType.UINT64 : GGUFValueType.INT64 };
  if (value instanceof Float32Array) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.FLOAT32 };
  if (value instanceof Int32Array) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.INT32 };
  if (value instanceof Uint32Array) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.UINT32 };
  if (Array.isArray(value)) {
    if (value.length === 0) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.INT32 };
    if (value.every((v) => typeof v === 'string')) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.STRING };
    if (value.every((v) => typeof v === 'boolean')) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.BOOL };
    if (value.every((v) => typeof v === 'number')) return { type: GGUFValueType.ARRAY, arrayType: inferNumberType(value as number[]) };
    if (value.every((v) => typeof v === 'bigint')) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.INT64 };
    if (value.every((v) => Array.isArray(v) || ArrayBuffer.isView(v))) return { type: GGUFValueType.ARRAY, arrayType: GGUFValueType.ARRAY };
  }
  throw new GGUFError('bad_metadata', `cannot infer a GGUF type for metadata "${key}" (mixed or unsupported values): give { type, value }`);
}

/** Growable little-endian byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  u64(v: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  string(s: string): void {
    const encoded = new TextEncoder().encode(s);
    this.u64(encoded.length);
    this.bytes(encoded);
  }
  scalar(type: GGUFValueType, v: MetaInput, key: string): void {
    const num = (): number => {
      if (typeof v === 'number') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'bigint') return Number(v);
      throw new GGUFError('bad_metadata', `metadata "${key}": ${String(v)} is not a number`);
    };
    const int = (lo: number, hi: number): number => {
      const n = num();
      if (!Number.isInteger(n) || n < lo || n > hi) throw new GGUFError('bad_metadata', `metadata "${key}": ${n} does not fit ${GGUFValueType[type]}`);
      return n;
    };
    // Validate before reserve(): reserve() may replace the buffer and its DataView.
    const put = (bytes: number, set: (view: DataView, at: number) => void): void => {
      const at = this.reserve(bytes);
      set(this.view, at);
    };
    switch (type) {
      case GGUFValueType.UINT8: { const n = int(0, 0xff); return put(1, (d, at) => d.setUint8(at, n)); }
      case GGUFValueType.INT8: { const n = int(-0x80, 0x7f); return put(1, (d, at) => d.setInt8(at, n)); }
      case GGUFValueType.UINT16: { const n = int(0, 0xffff); return put(2, (d, at) => d.setUint16(at, n, true)); }
      case GGUFValueType.INT16: { const n = int(-0x8000, 0x7fff); return put(2, (d, at) => d.setInt16(at, n, true)); }
      case GGUFValueType.UINT32: { const n = int(0, 0xffffffff); return put(4, (d, at) => d.setUint32(at, n, true)); }
      case GGUFValueType.INT32: { const n = int(-0x80000000, 0x7fffffff); return put(4, (d, at) => d.setInt32(at, n, true)); }
      case GGUFValueType.FLOAT32: { const n = num(); return put(4, (d, at) => d.setFloat32(at, n, true)); }
      case GGUFValueType.FLOAT64: { const n = num(); return put(8, (d, at) => d.setFloat64(at, n, true)); }
      case GGUFValueType.BOOL: { const n = v === true || v === 1 ? 1 : 0; return put(1, (d, at) => d.setUint8(at, n)); }
      case GGUFValueType.UINT64:
      case GGUFValueType.INT64: {
        if (typeof v !== 'bigint') int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        const big = BigInt(v as number | bigint);
        const [lo, hi] = type === GGUFValueType.UINT64 ? [0n, 2n ** 64n] : [-(2n ** 63n), 2n ** 63n];
        if (big < lo || big >= hi) throw new GGUFError('bad_metadata', `metadata "${key}": ${big} does not fit ${GGUFValueType[type]}`);
        const at = this.reserve(8);
        if (type === GGUFValueType.UINT64) this.view.setBigUint64(at, big, true);
        else this.view.setBigInt64(at, big, true);
        return;
      }
      default: throw new GGUFError('bad_value_type', `metadata "${key}": ${type} is not a scalar type`);
    }
  }
  value(type: GGUFValueType, arrayType: GGUFValueType | undefined, v: MetaInput, key: string): void {
    if (isTyped(v)) return this.value(v.type, v.arrayType, v.value, key);
    if (type === GGUFValueType.STRING) {
      if (typeof v !== 'string') throw new GGUFError('bad_metadata', `metadata "${key}": expected a string`);
      return this.string(v);
    }
    if (type !== GGUFValueType.ARRAY) return this.scalar(type, v, key);
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new GGUFError('bad_metadata', `metadata "${key}": expected an array`);
    const items = v as ArrayLike<MetaInput>;
    const elemType = arrayType ?? inferType(v, key).arrayType!;
    this.u32(elemType);
    this.u64(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const inner = elemType === GGUFValueType.ARRAY ? inferType(item, key) : { type: elemType, arrayType: undefined };
      this.value(inner.type, inner.arrayType, item, key);
    }
  }
  align(alignment: number): void {
    this.reserve((alignment - (this.length % alignment)) % alignment);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Encodes a tensor's data as its GGUF type, checking the shape against the data. */
function encodeTensor(t: TensorInput): Uint8Array {
  if (!typeTraits(t.type)) throw new GGUFError('unknown_tensor_type', `tensor "${t.name}": unknown ggml type ${t.type}`);
  if (t.shape.length < 1 || t.shape.length > GGUF_MAX_DIMS || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new GGUFError('bad_shape', `tensor "${t.name}": bad shape [${t.shape.join(', ')}]`);
  }
  const numElements = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape[0] % typeTraits(t.type)!.blockSize !== 0) {
    throw new GGUFError('bad_shape', `tensor "${t.name}": row of ${t.shape[0]} is not a whole number of ${typeName(t.type)} blocks`);
  }
  const byteLength = tensorByteLength(t.type, numElements);
  if (t.data instanceof Float32Array) {
    if (t.data.length !== numElements) throw new GGUFError('bad_tensor_data', `tensor "${t.name}": ${t.data.length} values for ${numElements} elements`);
    return quantize(t.type, t.data);
  }
  if (t.data.byteLength !== byteLength) {
    throw new GGUFError('bad_tensor_data', `tensor "${t.name}": ${t.data.byteLength} bytes given, ${typeName(t.type)} [${t.shape.join(', ')}] needs ${byteLength}`);
  }
  return t.data;
}

export function writeGGUF(input: WriteGGUFInput): Uint8Array {
  const version = input.version ?? 3;
  if (version !== 2 && version !== 3) throw new GGUFError('unsupported_version', `cannot write GGUF version ${String(version)}`);
  const metadata: Record<string, MetaInput> = { ...input.metadata };
  const types: Record<string, { type: GGUFValueType; arrayType?: GGUFValueType }> = { ...(input.metadataTypes ?? {}) };
  const alignment = input.alignment ?? (typeof metadata['general.alignment'] === 'number' ? metadata['general.alignment'] : GGUF_DEFAULT_ALIGNMENT);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new GGUFError('bad_alignment', `alignment must be a power of two, got ${alignment}`);
  }
  if (alignment !== GGUF_DEFAULT_ALIGNMENT || 'general.alignment' in metadata) {
    metadata['general.alignment'] = alignment;
    types['general.alignment'] = { type: GGUFValueType.UINT32 };
  }
  const tensors = input.tensors ?? [];
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new GGUFError('duplicate_tensor', `tensor "${t.name}" given twice`);
    names.add(t.name);
  }
  const encoded = tensors.map(encodeTensor);

  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(version);
  w.u64(tensors.length);
  const keys = Object.keys(metadata);
  w.u64(keys.length);
  for (const key of keys) {
    const value = metadata[key];
    const { type, arrayType } = types[key] ?? inferType(value, key);
    w.string(key);
    w.u32(type);
    w.value(type, arrayType, value, key);
  }
  let relOffset = 0;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    w.string(t.name);
    w.u32(t.shape.length);
    for (const dim of t.shape) w.u64(dim);
    w.u32(t.type);
    w.u64(relOffset);
    relOffset += Math.ceil(encoded[i].byteLength / alignment) * alignment;
  }
  w.align(alignment);
  for (const bytes of encoded) {
    w.bytes(bytes);
    w.align(alignment);
  }
  return w.result();
}
