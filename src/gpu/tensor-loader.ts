// Loads named GGUF tensors onto the GPU for the weight loaders (model-weights.ts for
// decoders, encoder-weights.ts for BERT-family encoders): matrices through uploadTensor
// (repacked, streamed by rows), vectors (norms, biases) dequantized to f32 on the CPU, as
// the kernels that read them take plain f32. Tracks progress and every GPU object it made,
// so a failed load destroys what it had uploaded.
//
// Dry mode (`dry: true`) reads no tensor bytes and allocates nothing: matrices become
// plannedWeight (the same parts, dry buffers), vectors dry buffers of their f32 size. The
// runner records its pipeline plan on such weights and compiles it before the upload
// (runner.ts createGpuRunner), so the compiler's peak never sits on top of the weights.
import { dequantize } from '../model/gguf/dequant';
import { GGUFError } from '../model/gguf/errors';
import { typeName } from '../model/gguf/quant';
import { assertFiniteWeights } from '../model/gguf/finite';
import type { ByteSource, GGUFFile, GGUFTensorInfo } from '../model/gguf/types';
import type { GpuContext } from './context';
import { quantLayout, RepackError } from './repack';
import { RunnerError } from './runner-errors';
import { dryBuffer } from './dry-buffer';
import { plannedWeight, uploadConcatenated, uploadTensor, UploadScratch, type GpuWeight } from './weights';

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
  /** Every matrix's chunks go through these host buffers (freed with the loader after the load). */
  private readonly scratch = new UploadScratch();

  constructor(
    private readonly ctx: GpuContext,
    gguf: GGUFFile,
    private readonly source: ByteSource,
    private readonly onProgress?: (p: WeightProgress) => void,
    /** Plan only: nothing read (but the small f32 tables of vectorF32), nothing allocated. */
    readonly dry = false,
  ) {
    checkTensorTypes(gguf);
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
      w = this.dry ? plannedWeight(this.ctx, info.name, info.type, info.shape) : await uploadTensor(this.ctx, this.source, info, { scratch: this.scratch });
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
    const buf = this.table(`weight:${label}`, values);
    this.gpuBytes += buf.size;
    return buf;
  }

  /** A buffer of values computed here (RoPE tables; not counted in gpuBytes), owned like the weights. */
  table(label: string, values: ArrayBufferView<ArrayBuffer>): GPUBuffer {
    if (this.dry) return dryBuffer(label, values.byteLength);
    const buf = this.ctx.upload(label, values);
    this.owned.push(buf);
    return buf;
  }

  async vector(name: string): Promise<GPUBuffer> {
    const buf = this.upload(name, this.dry ? new Float32Array(elements(this.info(name))) : await this.vectorF32(name));
    this.progressed(this.info(name));
    return buf;
  }

  /**
   * One weight of the tensors `names`, rows concatenated in order (q|k|v, gate|up): one
   * matmul then serves what took several, each output row the same dot product.
   */
  async concatenated(name: string, names: string[]): Promise<GpuWeight> {
    const parts = names.map((n) => this.info(n));
    let w: GpuWeight;
    try {
      w = this.dry
        ? plannedWeight(this.ctx, name, parts[0]!.type, [parts[0]!.shape[0]!, parts.reduce((n, p) => n + elements(p) / p.shape[0]!, 0)])
        : await uploadConcatenated(this.ctx, this.source, name, parts, { scratch: this.scratch });
    } catch (e) {
      throw loadFailed(name, e);
    }
    this.owned.push(w);
    this.gpuBytes += w.gpuBytes;
    parts.forEach((p) => this.progressed(p));
    return w;
  }

  /** Whether `names` all exist as matrices of one type and row length (so they can be concatenated). */
  canConcatenate(names: string[]): boolean {
    if (!names.every((n) => this.infos.has(n))) return false;
    const [first, ...rest] = names.map((n) => this.info(n));
    return first!.shape.length === 2 && rest.every((t) => t.type === first!.type && t.shape.length === 2 && t.shape[0] === first!.shape[0]);
  }

  /** The f32 vectors `names` (biases) concatenated into one buffer, in order. */
  async concatenatedVector(name: string, names: string[]): Promise<GPUBuffer> {
    const values = this.dry ? [new Float32Array(names.reduce((n, t) => n + elements(this.info(t)), 0))] : await Promise.all(names.map((n) => this.vectorF32(n)));
    const all = new Float32Array(values.reduce((n, v) => n + v.length, 0));
    let at = 0;
    for (const v of values) {
      all.set(v, at);
      at += v.length;
    }
    const buf = this.upload(name, all);
    names.forEach((n) => this.progressed(this.info(n)));
    return buf;
  }

  optional<T>(name: string, load: (n: string) => Promise<T>): Promise<T | undefined> {
    return this.infos.has(name) ? load(name) : Promise.resolve(undefined);
  }

  destroyAll(): void {
    this.owned.forEach((o) => o.destroy());
  }
}

/** Elements of a tensor (the product of its GGUF shape). */
function elements(info: GGUFTensorInfo): number {
  return info.shape.reduce((a, b) => a * b, 1);
}

/** A load failure of tensor `name` as model_load_failed; invalid_weights keeps its own code (and class, across workers). */
function loadFailed(name: string, e: unknown): Error {
  return e instanceof GGUFError && e.code === 'invalid_weights' ? e : new RunnerError('model_load_failed', `tensor ${name}: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * A tensor type the GPU has no layout for (IQ2/IQ3 types, MXFP4, …) refuses the whole file
 * before the first upload: GGUFError `unsupported_tensor_type` naming the tensor and type.
 */
function checkTensorTypes(gguf: GGUFFile): void {
  for (const t of gguf.tensors) {
    try {
      quantLayout(t.type);
    } catch (e) {
      if (!(e instanceof RepackError)) throw e;
      throw new GGUFError('unsupported_tensor_type', `tensor ${t.name} has type ${typeName(t.type)}, which tabllm cannot run on the GPU`);
    }
  }
}
