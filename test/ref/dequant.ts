// Tensor bytes → Float64Array for the reference model, through the project's CPU
// dequantizer (src/model/gguf/dequant.ts, written from ggml's block structs) in its exact
// float64 mode, so the reference shares no code with the GPU kernels or repacks.

import { dequantizeF64 } from '../../src/model/gguf/dequant';
import type { GGMLType } from '../../src/model/gguf/types';

export function tensorToFloat64(type: GGMLType, bytes: Uint8Array, numElements: number): Float64Array {
  const values = dequantizeF64(type, bytes);
  if (values.length !== numElements) {
    throw new Error(`reference model: tensor bytes hold ${values.length} values, its shape says ${numElements}`);
  }
  return values;
}
