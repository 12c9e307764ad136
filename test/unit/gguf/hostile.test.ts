// Corrupt and hostile GGUF headers: each must fail fast (< 1 s) with its coded GGUFError,
// reading no more than the file holds (counts and lengths are checked before allocating).
import { describe, expect, it } from 'vitest';
import { GGMLType, GGUFError, GGUFValueType as T, MemorySource, readGGUF, writeGGUF, type ByteSource } from '../../../src/model/gguf';

/** Little-endian byte builder for hand-made headers. */
class Raw {
  private bytes: number[] = [];
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u32(v: number): this {
    for (let i = 0; i < 4; i++) this.bytes.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  u64(v: number | bigint): this {
    let big = BigInt(v);
    for (let i = 0; i < 8; i++, big >>= 8n) this.bytes.push(Number(big & 0xffn));
    return this;
  }
  str(s: string): this {
    const encoded = new TextEncoder().encode(s);
    this.u64(encoded.length);
    for (const b of encoded) this.bytes.push(b);
    return this;
  }
  pad(alignment: number): this {
    while (this.bytes.length % alignment) this.bytes.push(0);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.bytes.push(0);
    return this;
  }
  get length(): number {
    return this.bytes.length;
  }
  build(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

const header = (nTensors: number | bigint, nKv: number | bigint, version = 3): Raw => new Raw().u32(0x46554747).u32(version).u64(nTensors).u64(nKv);
const kvU32 = (r: Raw, key: string, value: number): Raw => r.str(key).u32(T.UINT32).u32(value);
const tensorInfo = (r: Raw, name: string, dims: (number | bigint)[], type: number, offset: number | bigint): Raw => {
  r.str(name).u32(dims.length);
  for (const d of dims) r.u64(d);
  return r.u32(type).u64(offset);
};

/** A source that records every read, to prove the reader stays within the file. */
class CountingSource implements ByteSource {
  readonly size: number;
  maxRead = 0;
  totalRead = 0;
  private readonly inner: MemorySource;
  constructor(bytes: Uint8Array) {
    this.inner = new MemorySource(bytes);
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.maxRead = Math.max(this.maxRead, length);
    this.totalRead += length;
    return this.inner.read(offset, length);
  }
}

async function expectCode(bytes: Uint8Array, code: string): Promise<GGUFError> {
  const source = new CountingSource(bytes);
  const start = performance.now();
  let caught: unknown;
  try {
    await readGGUF(source);
  } catch (err) {
    caught = err;
  }
  const ms = performance.now() - start;
  expect(caught, `expected ${code}`).toBeInstanceOf(GGUFError);
  expect((caught as GGUFError).code).toBe(code);
  expect(ms).toBeLessThan(1000);
  expect(source.maxRead).toBeLessThanOrEqual(bytes.byteLength);
  expect(source.totalRead).toBeLessThanOrEqual(bytes.byteLength);
  return caught as GGUFError;
}

/** A valid one-tensor file, as the base that the truncation cases cut. */
function validFile(): Uint8Array {
  return writeGGUF({
    metadata: { 'general.architecture': 'llama', 'test.tokens': ['a', 'bb', 'ccc'] },
    tensors: [{ name: 'w', type: GGMLType.F32, shape: [4, 2], data: new Float32Array(8).fill(1) }],
  });
}

describe('hostile GGUF headers', () => {
  it('bad magic', async () => {
    const bytes = validFile();
    bytes[3] = 0x58; // "GGUX"
    await expectCode(bytes, 'bad_magic');
    await expectCode(new TextEncoder().encode('<html>not a model</html>'), 'bad_magic');
  });

  it('version 1 and 99', async () => {
    await expectCode(header(0, 0, 1).build(), 'unsupported_version');
    await expectCode(header(0, 0, 99).build(), 'unsupported_version');
    // A big-endian v3 file reads as version 0x03000000.
    await expectCode(header(0, 0, 0x03000000).build(), 'unsupported_version');
  });

  it('truncated header, metadata and tensor infos', async () => {
    const bytes = validFile();
    await expectCode(new Uint8Array(0), 'truncated');
    await expectCode(bytes.subarray(0, 10), 'truncated'); // inside the tensor count
    await expectCode(bytes.subarray(0, 24 + 8 + 10), 'truncated'); // inside the first key
    await expectCode(bytes.subarray(0, 24 + 8 + 20 + 4 + 4), 'truncated'); // inside the first value
    const tensorInfoAt = bytes.byteLength - 32 - 32; // 32 B of data and 1..32 B of padding precede it
    await expectCode(bytes.subarray(0, tensorInfoAt), 'truncated');
    // Tensor data cut off: the header parses but the tensor runs past the end.
    await expectCode(bytes.subarray(0, bytes.byteLength - 1), 'tensor_out_of_bounds');
  });

  it('huge string length', async () => {
    await expectCode(header(0, 1).u64(2n ** 62n).build(), 'bad_string');
    await expectCode(header(0, 1).str('k').u32(T.STRING).u64(0xffffffffffffffffn).build(), 'bad_string');
  });

  it('huge array count (2^60)', async () => {
    await expectCode(header(0, 1).str('k').u32(T.ARRAY).u32(T.UINT8).u64(2n ** 60n).build(), 'bad_count');
    await expectCode(header(0, 1).str('k').u32(T.ARRAY).u32(T.STRING).u64(2n ** 60n).build(), 'bad_count');
    // A count that fits the file size but not the bytes left after it: truncated, not allocated.
    await expectCode(header(0, 1).str('k').u32(T.ARRAY).u32(T.FLOAT32).u64(12).zeros(8).build(), 'truncated');
  });

  it('huge tensor and key counts', async () => {
    await expectCode(header(2n ** 60n, 0).build(), 'bad_count');
    await expectCode(header(0xffffffffffffffffn, 0).build(), 'bad_count');
    await expectCode(header(0, 2n ** 40n).build(), 'bad_count');
  });

  it('unknown value type', async () => {
    await expectCode(header(0, 1).str('k').u32(13).u32(0).build(), 'bad_value_type');
    await expectCode(header(0, 1).str('k').u32(T.ARRAY).u32(99).u64(1).u32(0).build(), 'bad_value_type');
  });

  it('arrays nested deeper than the limit', async () => {
    const r = header(0, 1).str('k').u32(T.ARRAY);
    for (let i = 0; i < 40; i++) r.u32(T.ARRAY).u64(1);
    await expectCode(r.u32(T.UINT8).u64(0).build(), 'bad_value_type');
  });

  it('unknown tensor type', async () => {
    await expectCode(tensorInfo(header(1, 0), 'w', [32], 4, 0).pad(32).zeros(64).build(), 'unknown_tensor_type'); // Q4_2, removed
    await expectCode(tensorInfo(header(1, 0), 'w', [32], 1000, 0).pad(32).zeros(64).build(), 'unknown_tensor_type');
  });

  it('bad n_dims and shapes', async () => {
    await expectCode(tensorInfo(header(1, 0), 'w', [], GGMLType.F32, 0).pad(32).zeros(64).build(), 'bad_shape');
    await expectCode(tensorInfo(header(1, 0), 'w', [1, 1, 1, 1, 1], GGMLType.F32, 0).pad(32).zeros(64).build(), 'bad_shape');
    // 2^32 x 2^32 elements overflows 2^53.
    await expectCode(tensorInfo(header(1, 0), 'w', [2 ** 32, 2 ** 32], GGMLType.F32, 0).pad(32).zeros(64).build(), 'bad_shape');
    // A Q8_0 row of 16 is half a block.
    await expectCode(tensorInfo(header(1, 0), 'w', [16], GGMLType.Q8_0, 0).pad(32).zeros(64).build(), 'bad_shape');
  });

  it('tensor past EOF', async () => {
    await expectCode(tensorInfo(header(1, 0), 'w', [64], GGMLType.F32, 0).pad(32).zeros(64).build(), 'tensor_out_of_bounds');
    await expectCode(tensorInfo(header(1, 0), 'w', [8], GGMLType.F32, 2n ** 62n).pad(32).zeros(64).build(), 'tensor_out_of_bounds');
    await expectCode(tensorInfo(header(1, 0), 'w', [2 ** 40], GGMLType.F32, 0).pad(32).zeros(64).build(), 'tensor_out_of_bounds');
  });

  it('overlapping tensors', async () => {
    const r = header(2, 0);
    tensorInfo(r, 'a', [16], GGMLType.F32, 0);
    tensorInfo(r, 'b', [16], GGMLType.F32, 32); // a covers [0, 64)
    await expectCode(r.pad(32).zeros(128).build(), 'overlapping_tensors');
  });

  it('misaligned tensor offset', async () => {
    await expectCode(tensorInfo(header(1, 0), 'w', [4], GGMLType.F32, 4).pad(32).zeros(64).build(), 'misaligned_tensor');
    // 32 is fine with the default alignment but not with general.alignment = 64.
    const r = kvU32(header(1, 1), 'general.alignment', 64);
    await expectCode(tensorInfo(r, 'w', [4], GGMLType.F32, 32).pad(64).zeros(128).build(), 'misaligned_tensor');
  });

  it('alignment 0, not a power of two, or not an integer', async () => {
    for (const alignment of [0, 3, 48, 0x80000000]) await expectCode(kvU32(header(0, 1), 'general.alignment', alignment).build(), 'bad_alignment');
    await expectCode(header(0, 1).str('general.alignment').u32(T.STRING).str('32').build(), 'bad_alignment');
    await expectCode(header(0, 1).str('general.alignment').u32(T.FLOAT32).u32(0x42000000).build(), 'bad_alignment'); // 32.0f
  });

  it('duplicate key and duplicate tensor', async () => {
    await expectCode(kvU32(kvU32(header(0, 2), 'a.b', 1), 'a.b', 2).build(), 'duplicate_key');
    const r = header(2, 0);
    tensorInfo(r, 'w', [8], GGMLType.F32, 0);
    tensorInfo(r, 'w', [8], GGMLType.F32, 32);
    await expectCode(r.pad(32).zeros(64).build(), 'duplicate_tensor');
  });

  it('reports the byte offset of the problem', async () => {
    const err = await expectCode(header(0, 1).str('k').u32(13).u32(0).build(), 'bad_value_type');
    expect(err.offset).toBe(24 + 8 + 1);
  });

  it('a 64 MiB claimed string inside a 100-byte file allocates nothing big', async () => {
    const bytes = header(0, 1).str('k').u32(T.STRING).u64(64 * 1024 * 1024).zeros(40).build();
    await expectCode(bytes, 'bad_string');
  });
});
