// GGUF reader (v2 and v3). Reads the header incrementally through a growing window over a
// ByteSource — never the whole file — and validates every count and length against the
// bytes left in the file BEFORE allocating, so hostile files fail fast with a coded error.
//
// File layout (little-endian):
//   magic "GGUF" | u32 version | u64 tensorCount | u64 kvCount
//   kvCount x  [string key][u32 valueType][value]
//   tensorCount x [string name][u32 nDims][u64 dims[nDims]][u32 ggmlType][u64 relOffset]
//   padding to `general.alignment` (default 32) | tensor data (relOffset is from here)
import { GGUFError } from './errors';
import { openSource, isByteSource, type OpenSourceOptions, type SourceInput } from './source';
import { tensorByteLength, typeTraits } from './quant';
import { GGUFValueType, type ByteSource, type GGUFFile, type GGUFMetadata, type GGUFTensorInfo, type GGUFValue } from './types';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4;
const MAX_ARRAY_NESTING = 8;
// Smallest encodings, used to bound counts against the bytes left in the file.
const MIN_KV_BYTES = 8 + 4 + 1; // empty key, type, a 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // empty name, nDims, one dim, type, offset

export interface ReadGGUFOptions extends OpenSourceOptions {
  /** First header window in bytes (default 1 MiB); later windows double, up to 64 MiB. */
  windowBytes?: number;
}

/** Fixed byte size of each scalar value type (strings and arrays are variable). */
const SCALAR_BYTES: Partial<Record<GGUFValueType, number>> = {
  [GGUFValueType.UINT8]: 1,
  [GGUFValueType.INT8]: 1,
  [GGUFValueType.UINT16]: 2,
  [GGUFValueType.INT16]: 2,
  [GGUFValueType.UINT32]: 4,
  [GGUFValueType.INT32]: 4,
  [GGUFValueType.FLOAT32]: 4,
  [GGUFValueType.BOOL]: 1,
  [GGUFValueType.UINT64]: 8,
  [GGUFValueType.INT64]: 8,
  [GGUFValueType.FLOAT64]: 8,
};

function minValueBytes(type: GGUFValueType): number {
  if (type === GGUFValueType.STRING) return 8;
  if (type === GGUFValueType.ARRAY) return 12;
  return SCALAR_BYTES[type]!;
}

// ignoreBOM keeps a leading U+FEFF: some vocabularies have the BOM as a token of its own.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Sequential reader over a window of the file that is refilled (and grown) on demand. */
class HeaderCursor {
  /** Absolute file offset of the next byte to read. */
  pos = 0;
  private window: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.window.buffer);
  private windowStart = 0;
  private nextWindowBytes: number;

  constructor(
    private readonly source: ByteSource,
    readonly size: number,
    windowBytes: number,
  ) {
    this.nextWindowBytes = windowBytes;
  }

  get remaining(): number {
    return this.size - this.pos;
  }

  /** Makes the next `n` bytes available, or throws `truncated`. */
  async need(n: number): Promise<void> {
    if (this.pos + n <= this.windowStart + this.window.length) return;
    if (n > this.remaining) throw new GGUFError('truncated', `need ${n} bytes, ${this.remaining} left in the file`, this.pos);
    const length = Math.min(Math.max(this.nextWindowBytes, n), this.remaining);
    this.nextWindowBytes = Math.min(this.nextWindowBytes * 2, 64 * 1024 * 1024);
    const bytes = await this.source.read(this.pos, length);
    this.window = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.windowStart = this.pos;
  }

  has(n: number): boolean {
    return this.pos + n <= this.windowStart + this.window.length;
  }

  // The getters below assume `need` was awaited for their size.
  u32(): number {
    const v = this.view.getUint32(this.pos - this.windowStart, true);
    this.pos += 4;
    return v;
  }
  /** u64 as a number, or Infinity when it does not fit in 2^53 (callers bound-check it). */
  u64(): number {
    const at = this.pos - this.windowStart;
    const lo = this.view.getUint32(at, true);
    const hi = this.view.getUint32(at + 4, true);
    this.pos += 8;
    return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
  }
  scalar(type: GGUFValueType): number | bigint | boolean {
    const at = this.pos - this.windowStart;
    const v = this.view;
    this.pos += SCALAR_BYTES[type]!;
    switch (type) {
      case GGUFValueType.UINT8: return v.getUint8(at);
      case GGUFValueType.INT8: return v.getInt8(at);
      case GGUFValueType.UINT16: return v.getUint16(at, true);
      case GGUFValueType.INT16: return v.getInt16(at, true);
      case GGUFValueType.UINT32: return v.getUint32(at, true);
      case GGUFValueType.INT32: return v.getInt32(at, true);
      case GGUFValueType.FLOAT32: return v.getFloat32(at, true);
      case GGUFValueType.BOOL: return v.getUint8(at) !== 0;
      case GGUFValueType.UINT64: return narrow(v.getBigUint64(at, true));
      case GGUFValueType.INT64: return narrow(v.getBigInt64(at, true));
      case GGUFValueType.FLOAT64: return v.getFloat64(at, true);
      default: throw new GGUFError('bad_value_type', `not a scalar type ${type}`, this.pos);
    }
  }
  /** Copies `n` bytes out of the window (the window buffer may be reused by the source). */
  bytes(n: number): Uint8Array {
    const at = this.pos - this.windowStart;
    this.pos += n;
    return this.window.slice(at, at + n);
  }
  text(n: number): string {
    const at = this.pos - this.windowStart;
    this.pos += n;
    // Short strings (tokens, merges) skip TextDecoder's per-call overhead.
    return (n <= 64 ? decodeShortUtf8(this.window, at, n) : undefined) ?? utf8.decode(this.window.subarray(at, at + n));
  }
  /** A whole length-prefixed string when it lies inside the window, else undefined (nothing consumed). */
  stringInWindow(): string | undefined {
    if (!this.has(8)) return undefined;
    const at = this.pos - this.windowStart;
    const hi = this.view.getUint32(at + 4, true);
    const length = this.view.getUint32(at, true);
    if (hi !== 0 || !this.has(8 + length)) return undefined;
    this.pos += 8;
    return this.text(length);
  }
}

const codeUnits: number[] = [];

/** Decodes well-formed UTF-8; returns undefined on anything unusual (TextDecoder handles it). */
function decodeShortUtf8(bytes: Uint8Array, at: number, n: number): string | undefined {
  codeUnits.length = 0;
  const end = at + n;
  for (let i = at; i < end; ) {
    const b0 = bytes[i];
    if (b0 < 0x80) {
      codeUnits.push(b0);
      i += 1;
      continue;
    }
    const len = b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 ? 2 : 0;
    if (len === 0 || i + len > end) return undefined;
    let cp = b0 & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const b = bytes[i + k];
      if ((b & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (b & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF go to TextDecoder (which replaces them).
    if ((len === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len === 4 && (cp < 0x10000 || cp > 0x10ffff))) return undefined;
    if (cp >= 0x10000) codeUnits.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else codeUnits.push(cp);
    i += len;
  }
  return String.fromCharCode.apply(null, codeUnits);
}

function narrow(value: bigint): number | bigint {
  return value >= -BigInt(Number.MAX_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

async function readString(cur: HeaderCursor, what: string): Promise<string> {
  if (!cur.has(8)) await cur.need(8);
  const at = cur.pos;
  const length = cur.u64();
  if (length > cur.size) throw new GGUFError('bad_string', `${what} length ${length} exceeds the file size ${cur.size}`, at);
  if (length > cur.remaining) throw new GGUFError('truncated', `${what} of ${length} bytes runs past the end of the file`, at);
  if (!cur.has(length)) await cur.need(length);
  return cur.text(length);
}

function checkValueType(type: number, at: number): GGUFValueType {
  if (!Number.isInteger(type) || type < 0 || type > GGUFValueType.FLOAT64) {
    throw new GGUFError('bad_value_type', `unknown metadata value type ${type}`, at);
  }
  return type as GGUFValueType;
}

async function readValue(cur: HeaderCursor, type: GGUFValueType, depth: number, types?: { arrayType?: GGUFValueType }): Promise<GGUFValue> {
  if (type === GGUFValueType.STRING) return readString(cur, 'string value');
  if (type !== GGUFValueType.ARRAY) {
    const bytes = SCALAR_BYTES[type]!;
    if (!cur.has(bytes)) await cur.need(bytes);
    return cur.scalar(type);
  }
  if (depth >= MAX_ARRAY_NESTING) throw new GGUFError('bad_value_type', `arrays nested deeper than ${MAX_ARRAY_NESTING}`, cur.pos);
  await cur.need(12);
  const at = cur.pos;
  const elemType = checkValueType(cur.u32(), at);
  const count = cur.u64();
  const minBytes = count * minValueBytes(elemType);
  if (minBytes > cur.size) throw new GGUFError('bad_count', `array of ${count} elements cannot fit in a ${cur.size}-byte file`, at);
  if (minBytes > cur.remaining) throw new GGUFError('truncated', `array of ${count} elements runs past the end of the file`, at);
  if (types) types.arrayType = elemType;
  if (elemType === GGUFValueType.FLOAT32 || elemType === GGUFValueType.INT32 || elemType === GGUFValueType.UINT32) {
    // Large numeric arrays (scores, token types) come back as typed arrays: 4 B/element, not 8+.
    await cur.need(minBytes);
    const raw = cur.bytes(minBytes);
    if (elemType === GGUFValueType.FLOAT32) return new Float32Array(raw.buffer, 0, count);
    if (elemType === GGUFValueType.INT32) return new Int32Array(raw.buffer, 0, count);
    return new Uint32Array(raw.buffer, 0, count);
  }
  const out: GGUFValue[] = new Array(count);
  if (elemType === GGUFValueType.STRING) {
    // Vocabularies hold 100k+ strings: decode from the window synchronously, awaiting only on refill.
    for (let i = 0; i < count; i++) out[i] = cur.stringInWindow() ?? (await readString(cur, `string ${i} of an array`));
  } else if (elemType === GGUFValueType.ARRAY) {
    for (let i = 0; i < count; i++) out[i] = await readValue(cur, elemType, depth + 1);
  } else {
    await cur.need(minBytes);
    for (let i = 0; i < count; i++) out[i] = cur.scalar(elemType) as GGUFValue;
  }
  return out;
}

function checkAlignment(value: GGUFValue | undefined, type: GGUFValueType | undefined): number {
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  // Any integer type is accepted (llama.cpp writes UINT32).
  const isIntType = type !== undefined && (type <= GGUFValueType.INT32 || type === GGUFValueType.UINT64 || type === GGUFValueType.INT64);
  if (!isIntType || typeof value !== 'number' || value <= 0 || !Number.isInteger(value) || (value & (value - 1)) !== 0 || value > 2 ** 30) {
    throw new GGUFError('bad_alignment', `general.alignment must be a power of two, got ${String(value)}`);
  }
  return value;
}

/**
 * Parses the GGUF header: metadata, tensor infos (absolute offsets, byte lengths), alignment.
 * Tensor data is not read; use `readTensorBytes`.
 */
export async function readGGUF(input: SourceInput, opts: ReadGGUFOptions = {}): Promise<GGUFFile> {
  const owned = !isByteSource(input);
  const source = await openSource(input, opts);
  try {
    return await parseHeader(source, opts.windowBytes ?? 1024 * 1024);
  } finally {
    if (owned) await source.close?.();
  }
}

async function parseHeader(source: ByteSource, windowBytes: number): Promise<GGUFFile> {
  if (source.size === undefined) throw new GGUFError('bad_source', 'the source does not know its size');
  const cur = new HeaderCursor(source, source.size, windowBytes);
  if (cur.size < 4) throw new GGUFError('truncated', `file is ${cur.size} bytes, too small for a GGUF header`);
  await cur.need(4);
  const magic = cur.u32();
  if (magic !== GGUF_MAGIC) throw new GGUFError('bad_magic', `magic is 0x${magic.toString(16).padStart(8, '0')}, not "GGUF"`, 0);
  await cur.need(4);
  const version = cur.u32();
  if (version !== 2 && version !== 3) throw new GGUFError('unsupported_version', `GGUF version ${version} (supported: 2, 3)`, 4);
  await cur.need(16);
  const tensorCount = cur.u64();
  const kvCount = cur.u64();
  if (tensorCount * MIN_TENSOR_INFO_BYTES > cur.size) throw new GGUFError('bad_count', `${tensorCount} tensors cannot fit in ${cur.size} bytes (corrupt or truncated file)`, 8);
  if (kvCount * MIN_KV_BYTES > cur.size) throw new GGUFError('bad_count', `${kvCount} metadata entries cannot fit in ${cur.size} bytes (corrupt or truncated file)`, 16);

  const metadata: GGUFMetadata = Object.create(null);
  const metadataTypes: NonNullable<GGUFFile['metadataTypes']> = Object.create(null);
  for (let i = 0; i < kvCount; i++) {
    const keyAt = cur.pos;
    const key = await readString(cur, 'metadata key');
    if (key in metadata) throw new GGUFError('duplicate_key', `metadata key "${key}" appears twice`, keyAt);
    await cur.need(4);
    const type = checkValueType(cur.u32(), cur.pos - 4);
    const typeInfo: { type: GGUFValueType; arrayType?: GGUFValueType } = { type };
    metadata[key] = await readValue(cur, type, 0, typeInfo);
    metadataTypes[key] = typeInfo;
  }
  const alignment = checkAlignment(metadata['general.alignment'], metadataTypes['general.alignment']?.type);

  const tensors: GGUFTensorInfo[] = [];
  const relOffsets: number[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = cur.pos;
    const name = await readString(cur, 'tensor name');
    if (names.has(name)) throw new GGUFError('duplicate_tensor', `tensor "${name}" appears twice`, at);
    names.add(name);
    await cur.need(4);
    const nDims = cur.u32();
    if (nDims < 1 || nDims > GGUF_MAX_DIMS) throw new GGUFError('bad_shape', `tensor "${name}" has ${nDims} dims (1..${GGUF_MAX_DIMS})`, at);
    await cur.need(8 * nDims + 12);
    const shape: number[] = [];
    let numElements = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = cur.u64();
      numElements *= dim;
      if (!Number.isSafeInteger(numElements)) throw new GGUFError('bad_shape', `tensor "${name}" has too many elements`, at);
      shape.push(dim);
    }
    const type = cur.u32();
    const relOffset = cur.u64();
    if (!typeTraits(type)) throw new GGUFError('unknown_tensor_type', `tensor "${name}" has unknown ggml type ${type}`, at);
    if (shape[0] % typeTraits(type)!.blockSize !== 0) {
      throw new GGUFError('bad_shape', `tensor "${name}" row of ${shape[0]} is not a whole number of ${typeTraits(type)!.name} blocks`, at);
    }
    if (relOffset > cur.size) throw new GGUFError('tensor_out_of_bounds', `tensor "${name}" offset ${relOffset} is past the end of the file`, at);
    if (relOffset % alignment !== 0) throw new GGUFError('misaligned_tensor', `tensor "${name}" offset ${relOffset} is not a multiple of ${alignment}`, at);
    tensors.push({ name, type, shape, offset: 0, byteLength: tensorByteLength(type, numElements) });
    relOffsets.push(relOffset);
  }

  const dataOffset = Math.ceil(cur.pos / alignment) * alignment;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    t.offset = dataOffset + relOffsets[i];
    if (!(t.offset + t.byteLength <= cur.size)) {
      throw new GGUFError('tensor_out_of_bounds', `tensor "${t.name}" [${t.offset}, +${t.byteLength}) runs past the end of the ${cur.size}-byte file`);
    }
  }
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1];
    if (byOffset[i].offset < prev.offset + prev.byteLength) {
      throw new GGUFError('overlapping_tensors', `tensors "${prev.name}" and "${byOffset[i].name}" overlap`, byOffset[i].offset);
    }
  }
  return { version, metadata, metadataTypes, tensors, alignment, dataOffset, fileSize: cur.size };
}

/** Reads one tensor's raw bytes (as stored: quant blocks, f16, ...). */
export async function readTensorBytes(input: SourceInput, tensor: GGUFTensorInfo, opts: OpenSourceOptions = {}): Promise<Uint8Array> {
  const owned = !isByteSource(input);
  const source = await openSource(input, opts);
  try {
    return await source.read(tensor.offset, tensor.byteLength);
  } finally {
    if (owned) await source.close?.();
  }
}
