// WGSL source assembly for kernels that read repacked weights: the common helpers,
// the one snippet that defines `loadW8` for the weight type, then the kernel body.
import { GGMLType } from '../model/gguf/types';
import common from './matmul-dequant-common.wgsl?raw';
import bf16 from './matmul-dequant-bf16.wgsl?raw';
import f16 from './matmul-dequant-f16.wgsl?raw';
import f32 from './matmul-dequant-f32.wgsl?raw';
import iq4_nl from './matmul-dequant-iq4_nl.wgsl?raw';
import iq4_xs from './matmul-dequant-iq4_xs.wgsl?raw';
import q2_k from './matmul-dequant-q2_k.wgsl?raw';
import q3_k from './matmul-dequant-q3_k.wgsl?raw';
import q4_0 from './matmul-dequant-q4_0.wgsl?raw';
import q4_1 from './matmul-dequant-q4_1.wgsl?raw';
import q4_k from './matmul-dequant-q4_k.wgsl?raw';
import q5_0 from './matmul-dequant-q5_0.wgsl?raw';
import q5_1 from './matmul-dequant-q5_1.wgsl?raw';
import q5_k from './matmul-dequant-q5_k.wgsl?raw';
import q6_k from './matmul-dequant-q6_k.wgsl?raw';
import q8_0 from './matmul-dequant-q8_0.wgsl?raw';

const SNIPPETS: Partial<Record<GGMLType, string>> = {
  [GGMLType.F32]: f32,
  [GGMLType.F16]: f16,
  [GGMLType.BF16]: bf16,
  [GGMLType.Q8_0]: q8_0,
  [GGMLType.Q4_0]: q4_0,
  [GGMLType.Q4_1]: q4_1,
  [GGMLType.Q5_0]: q5_0,
  [GGMLType.Q5_1]: q5_1,
  [GGMLType.IQ4_NL]: iq4_nl,
  [GGMLType.Q2_K]: q2_k,
  [GGMLType.Q3_K]: q3_k,
  [GGMLType.Q4_K]: q4_k,
  [GGMLType.Q5_K]: q5_k,
  [GGMLType.Q6_K]: q6_k,
  [GGMLType.IQ4_XS]: iq4_xs,
};

const cache = new Map<string, string>();

/** The full WGSL of `body` for weights of `type` (the same string each time, so modules are cached). */
export function withDequant(type: GGMLType, bodyName: string, body: string): string {
  const key = `${bodyName}:${type}`;
  let code = cache.get(key);
  if (code === undefined) {
    const snippet = SNIPPETS[type];
    // The runner checks weight types at load (gpu/repack.ts `quantLayout`, `unsupported_type`);
    // a type without a snippet reaching here is a programming error.
    if (snippet === undefined) throw new Error(`no dequant snippet for ${typeName(type)}`);
    code = `${common}\n${snippet}\n${body}`;
    cache.set(key, code);
  }
  return code;
}

/** Short lowercase type name for pipeline keys and labels. */
export function typeName(type: GGMLType): string {
  return (GGMLType[type] ?? String(type)).toLowerCase();
}
