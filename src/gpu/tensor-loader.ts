// Loads named GGUF tensors onto the GPU for the weight loaders (model-weights.ts for
// decoders, encoder-weights.ts for BERT-family encoders): matrices through uploadTensor
// (repacked, streamed by rows), vectors (norms, biases) dequantized to f32 on the CPU, as
// the kernels that read them take plain f32. Tracks progress and every GPU object it made,
// so a failed load destroys what it had uploaded.
import { dequantize } from '../model/gguf/dequant';
import { GGUFError } from '../model/gguf/errors';
import { assertFiniteWeights } from '../model/gguf/finite';
import type { ByteSource, GGUFFile, GGUFTensorInfo } from '../model/gguf/types';
import type { GpuContext } from './context';
import { RunnerError } from './runner-errors';
import { uploadTensor, type GpuWeight } from './weights';

export interface WeightProgress {
  loadedBytes: number;
  totalBytes: number;
}

export class TensorLoader {
  /** Everything uploaded so far (destroyed together on failure or by the weights' destroy()). */
  readonly owned: { destroy(): void }[] = [];
  fileBytes = 0;
  gpuBytes = 0;
  private loadedBytes = 0;
  private readonly totalBytes: number;
  private readonly infos: Map<string, GGUFTensorInfo>;

  constructor(
    private readonly ctx: GpuContext,
    gguf: GGUFFile,
    private readonly source: ByteSource,
    private readonly onProgress?: (p: WeightProgress) => void,
  ) {
    this.infos = new Map(gguf.tensors.map((t) => [t.name, t]));
    this.totalBytes = gguf.tensors.reduce((s, t) => s + t.byteLength, 0);
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): GGUFTensorInfo {
    const info = this.infos.get(name);
    if (!info) throw new RunnerError('model_load_failed', `tensor ${name} is missing`);
    return info;
  }

  /** Counts a tensor's file bytes as loaded (for tensors consumed on the CPU). */
  progressed(info: GGUFTensorInfo): void {
    this.loadedBytes += info.byteLength;
    this.fileBytes += info.byteLength;
    this.onProgress?.({ loadedBytes: this.loadedBytes, totalBytes: this.totalBytes });
  }

  async matrix(name: string): Promise<GpuWeight> {
    const info = this.info(name);
    let w: GpuWeight;
    try {
      w = await uploadTensor(this.ctx, this.source, info);
    } catch (e) {
      throw loadFailed(name, e);
    }
    this.owned.push(w);
    this.gpuBytes += w.gpuBytes;
    this.progressed(info);
    return w;
  }

  /** A tensor's values as f32 on the CPU (not counted as progress). */
  async vectorF32(name: string): Promise<Float32Array<ArrayBuffer>> {
    const info = this.info(name);
    try {
      const bytes = await this.source.read(info.offset, info.byteLength);
      // As uploadTensor does for matrices: a NaN/Inf norm or bias would make every output garbage.
      assertFiniteWeights(info.name, info.type, bytes, 0);
      return dequantize(info.type, bytes);
    } catch (e) {
      throw loadFailed(name, e);
    }
  }

  /** Uploads f32 values computed on the CPU (labelled after the tensor they came from). */
  upload(label: string, values: ArrayBufferView<ArrayBuffer>): GPUBuffer {
    const buf = this.ctx.upload(`weight:${label}`, values);
    this.owned.push(buf);
    this.gpuBytes += buf.size;
    return buf;
  }

  async vector(name: string): Promise<GPUBuffer> {
    const buf = this.upload(name, await this.vectorF32(name));
    this.progressed(this.info(name));
    return buf;
  }

  optional<T>(name: string, load: (n: string) => Promise<T>): Promise<T | undefined> {
    return this.infos.has(name) ? load(name) : Promise.resolve(undefined);
  }

  destroyAll(): void {
    this.owned.forEach((o) => o.destroy());
  }
}

/** A load failure of tensor `name` as model_load_failed; invalid_weights keeps its own code (and class, across workers). */
function loadFailed(name: string, e: unknown): Error {
  return e instanceof GGUFError && e.code === 'invalid_weights' ? e : new RunnerError('model_load_failed', `tensor ${name}: ${(e as Error)?.message ?? String(e)}`);
}
