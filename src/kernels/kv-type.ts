// Element type of the paged KV pool: f32 everywhere, f16 where the device has
// 'shader-f16' (half the KV memory). Kernels that touch the pool are written with
// `alias KvT = f32;` and rewritten here for f16, so the f32 build type-checks both.
import { KernelArgError } from './encoder';

export type KvType = 'f32' | 'f16';

export function kvBytesPerElement(kvType: KvType): number {
  return kvType === 'f16' ? 2 : 4;
}

const f16Variants = new Map<string, string>();

/** WGSL `code` specialised for the pool element type (the f16 text built once per kernel). */
export function withKvType(kernel: string, code: string, kvType: KvType): string {
  if (kvType === 'f32') return code;
  let f16 = f16Variants.get(code);
  if (f16 === undefined) {
    const alias = 'alias KvT = f32;';
    if (!code.includes(alias)) throw new KernelArgError(kernel, 'kernel has no KvT alias');
    f16 = 'enable f16;\n' + code.replace(alias, 'alias KvT = f16;');
    f16Variants.set(code, f16);
  }
  return f16;
}
