// Tensor bytes → Float64Array for the reference model. F32 is widened here directly;
// every other type goes through the project's CPU dequantizer (src/model/gguf), which is
// itself tested against the GGUF spec, so the reference shares no code with GPU kernels.

import { f16ToF32 } from '../../src/model/gguf/quant';
import { GGMLType } from '../../src/model/gguf/types';

export function tensorToFloat64(type: GGMLType, bytes: Uint8Array, numElements: number): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(numElements);
  if (type === GGMLType.F32) {
    if (bytes.byteLength !== numElements * 4) throw new Error(`F32 tensor: ${bytes.byteLength} bytes for ${numElements} values`);
    for (let i = 0; i < numElements; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (type === GGMLType.F16) {
    if (bytes.byteLength !== numElements * 2) throw new Error(`F16 tensor: ${bytes.byteLength} bytes for ${numElements} values`);
    for (let i = 0; i < numElements; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
    return out;
  }
  throw new Error(`reference model: no dequantizer for ggml type ${GGMLType[type] ?? type}`);
}
