// writeGGUF -> readGGUF round trips: every metadata value type (incl. nested arrays), v2/v3,
// alignments 32 and 64, tensors of every writer type.
import { describe, expect, it } from 'vitest';
import { dequantize, GGMLType, GGUFError, GGUFValueType, readGGUF, readTensorBytes, writeGGUF, type MetaInput } from '../../../src/model/gguf';

const T = GGUFValueType;

/** One key per value type, each with an explicit type, plus inferred values. */
const METADATA: Record<string, MetaInput> = {
  'general.architecture': 'llama',
  'test.string.utf8': 'héllo ▁wörld 🦙',
  'test.string.empty': '',
  'test.bool.true': true,
  'test.bool.false': false,
  'test.inferred.int32': -7,
  'test.inferred.uint32': 4000000000,
  'test.inferred.float32': 0.5,
  'test.inferred.int64': -(2 ** 40),
  'test.u8': { type: T.UINT8, value: 255 },
  'test.i8': { type: T.INT8, value: -128 },
  'test.u16': { type: T.UINT16, value: 65535 },
  'test.i16': { type: T.INT16, value: -32768 },
  'test.u32': { type: T.UINT32, value: 4294967295 },
  'test.i32': { type: T.INT32, value: -2147483648 },
  'test.f32': { type: T.FLOAT32, value: 1e-5 },
  'test.u64.small': { type: T.UINT64, value: 12345 },
  'test.u64.big': { type: T.UINT64, value: 18446744073709551615n },
  'test.i64.big': { type: T.INT64, value: -9223372036854775808n },
  'test.f64': { type: T.FLOAT64, value: Math.PI },
  'test.arr.strings': ['a', '', 'ünï', '<0x0A>'],
  'test.arr.int32': { type: T.ARRAY, arrayType: T.INT32, value: [1, -2, 3] },
  'test.arr.f32': new Float32Array([0.25, -1.5]),
  'test.arr.u32': new Uint32Array([7, 4294967295]),
  'test.arr.u8': { type: T.ARRAY, arrayType: T.UINT8, value: [0, 1, 255] },
  'test.arr.i16': { type: T.ARRAY, arrayType: T.INT16, value: [-1, 2] },
  'test.arr.u64': { type: T.ARRAY, arrayType: T.UINT64, value: [1, 18446744073709551615n] },
  'test.arr.f64': { type: T.ARRAY, arrayType: T.FLOAT64, value: [0.1, -2] },
  'test.arr.bool': [true, false, true],
  'test.arr.empty': { type: T.ARRAY, arrayType: T.STRING, value: [] },
  'test.arr.nested': [[1, 2], [3], []],
  'test.arr.nested.strings': [['x', 'y'], ['z']],
  'test.arr.deep': [[[1.5]], [[2.5, 3.5]]],
};

const EXPECTED: Record<string, unknown> = {
  'general.architecture': 'llama',
  'test.string.utf8': 'héllo ▁wörld 🦙',
  'test.string.empty': '',
  'test.bool.true': true,
  'test.bool.false': false,
  'test.inferred.int32': -7,
  'test.inferred.uint32': 4000000000,
  'test.inferred.float32': 0.5,
  'test.inferred.int64': -(2 ** 40),
  'test.u8': 255,
  'test.i8': -128,
  'test.u16': 65535,
  'test.i16': -32768,
  'test.u32': 4294967295,
  'test.i32': -2147483648,
  'test.f32': Math.fround(1e-5),
  'test.u64.small': 12345,
  'test.u64.big': 18446744073709551615n,
  'test.i64.big': -9223372036854775808n,
  'test.f64': Math.PI,
  'test.arr.strings': ['a', '', 'ünï', '<0x0A>'],
  'test.arr.int32': new Int32Array([1, -2, 3]),
  'test.arr.f32': new Float32Array([0.25, -1.5]),
  'test.arr.u32': new Uint32Array([7, 4294967295]),
  'test.arr.u8': [0, 1, 255],
  'test.arr.i16': [-1, 2],
  'test.arr.u64': [1, 18446744073709551615n],
  'test.arr.f64': [0.1, -2],
  'test.arr.bool': [true, false, true],
  'test.arr.empty': [],
  'test.arr.nested': [new Int32Array([1, 2]), new Int32Array([3]), new Int32Array([])],
  'test.arr.nested.strings': [['x', 'y'], ['z']],
  'test.arr.deep': [[new Float32Array([1.5])], [new Float32Array([2.5, 3.5])]],
};

const EXPECTED_TYPES: Record<string, { type: GGUFValueType; arrayType?: GGUFValueType }> = {
  'test.inferred.int32': { type: T.INT32 },
  'test.inferred.uint32': { type: T.UINT32 },
  'test.inferred.float32': { type: T.FLOAT32 },
  'test.inferred.int64': { type: T.INT64 },
  'test.bool.true': { type: T.BOOL },
  'test.u64.big': { type: T.UINT64 },
  'test.arr.strings': { type: T.ARRAY, arrayType: T.STRING },
  'test.arr.u64': { type: T.ARRAY, arrayType: T.UINT64 },
  'test.arr.nested': { type: T.ARRAY, arrayType: T.ARRAY },
  'test.arr.bool': { type: T.ARRAY, arrayType: T.BOOL },
};

describe('metadata round trip', () => {
  for (const version of [2, 3] as const) {
    for (const alignment of [32, 64]) {
      it(`keeps every value type (v${version}, alignment ${alignment})`, async () => {
        const bytes = writeGGUF({ metadata: METADATA, version, alignment });
        const gguf = await readGGUF(bytes);
        expect(gguf.version).toBe(version);
        expect(gguf.alignment).toBe(alignment);
        const { 'general.alignment': writtenAlignment, ...rest } = gguf.metadata;
        expect(writtenAlignment).toBe(alignment === 32 ? undefined : alignment);
        expect(rest).toEqual(EXPECTED);
        for (const [key, type] of Object.entries(EXPECTED_TYPES)) expect(gguf.metadataTypes![key]).toEqual(type);
        expect(gguf.dataOffset % alignment).toBe(0);
      });
    }
  }

  it('re-writes a read file byte for byte using its metadataTypes', async () => {
    const original = writeGGUF({ metadata: METADATA, alignment: 64 });
    const gguf = await readGGUF(original);
    const again = writeGGUF({ metadata: gguf.metadata as Record<string, MetaInput>, metadataTypes: gguf.metadataTypes, alignment: 64 });
    expect(Buffer.from(again).equals(Buffer.from(original))).toBe(true);
  });

  it('rejects values it cannot type, with coded errors', () => {
    const err = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as GGUFError).code;
      }
      return 'no error';
    };
    expect(err(() => writeGGUF({ metadata: { k: [1, 'a'] } }))).toBe('bad_metadata');
    expect(err(() => writeGGUF({ metadata: { k: { type: T.UINT8, value: 256 } } }))).toBe('bad_metadata');
    expect(err(() => writeGGUF({ metadata: { k: { type: T.INT32, value: 1.5 } } }))).toBe('bad_metadata');
    expect(err(() => writeGGUF({ metadata: {}, alignment: 48 }))).toBe('bad_alignment');
    expect(err(() => writeGGUF({ metadata: {}, tensors: [{ name: 'a', type: GGMLType.F32, shape: [3], data: new Float32Array(2) }] }))).toBe('bad_tensor_data');
    expect(err(() => writeGGUF({ metadata: {}, tensors: [{ name: 'a', type: GGMLType.Q8_0, shape: [16], data: new Float32Array(16) }] }))).toBe('bad_shape');
    expect(err(() => writeGGUF({ metadata: {}, tensors: [{ name: 'a', type: GGMLType.Q4_0, shape: [32], data: new Uint8Array(17) }] }))).toBe('bad_tensor_data');
    const t = { name: 'a', type: GGMLType.F32, shape: [1], data: new Float32Array(1) };
    expect(err(() => writeGGUF({ metadata: {}, tensors: [t, t] }))).toBe('duplicate_tensor');
  });
});

describe('string decoding', () => {
  it('decodes 1-4 byte UTF-8 and replaces malformed bytes exactly like TextDecoder', async () => {
    const samples = ['a', 'é', '▁', '🦙', 'Ġhello', 'x'.repeat(100) + '€', '日本語', '', '\uFEFF', '\uFEFF' + 'y'.repeat(80)];
    const bytes = writeGGUF({ metadata: { s: samples, one: '🦙€é' } });
    const gguf = await readGGUF(bytes);
    expect(gguf.metadata.s).toEqual(samples);
    expect(gguf.metadata.one).toBe('🦙€é');
    // Patch the bytes of 'é' (C3 A9) into malformed sequences: lone continuation, truncated lead, overlong.
    const decoder = new TextDecoder();
    for (const bad of [[0xa9, 0xa9], [0xc3, 0x41], [0xc0, 0xaf], [0xed, 0xa0], [0xf4, 0x90]]) {
      const patched = bytes.slice();
      const at = Buffer.from(patched).indexOf(Buffer.from([0xc3, 0xa9]));
      patched.set(bad, at);
      const strings = (await readGGUF(patched)).metadata.s as string[];
      expect(strings[1]).toBe(decoder.decode(new Uint8Array(bad)));
    }
  });
});

describe('tensor round trip', () => {
  it('places F32/F16 tensors aligned and returns their values', async () => {
    const a = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
    const b = new Float32Array([1, 0.5, -0.25, 65504, 6.103515625e-5]);
    for (const alignment of [32, 64]) {
      const bytes = writeGGUF({
        metadata: { 'general.architecture': 'test' },
        tensors: [
          { name: 'a', type: GGMLType.F32, shape: [3, 2], data: a },
          { name: 'b', type: GGMLType.F16, shape: [5], data: b },
        ],
        alignment,
      });
      const gguf = await readGGUF(bytes);
      expect(gguf.tensors.map((t) => [t.name, t.type, t.shape, t.byteLength])).toEqual([
        ['a', GGMLType.F32, [3, 2], 24],
        ['b', GGMLType.F16, [5], 10],
      ]);
      expect(gguf.tensors.every((t) => t.offset % alignment === 0)).toBe(true);
      expect(dequantize(GGMLType.F32, await readTensorBytes(bytes, gguf.tensors[0]))).toEqual(a);
      expect(dequantize(GGMLType.F16, await readTensorBytes(bytes, gguf.tensors[1]))).toEqual(b);
    }
  });
});
