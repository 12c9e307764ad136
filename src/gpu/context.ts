// GpuContext: a device plus what every kernel needs — the features chosen, a
// pipeline cache keyed by a string that is also the pipeline's GPU label, and
// small helpers for labelled buffers. Kernels (src/kernels/<op>.ts) take a GpuContext.

export interface GpuFeatures {
  /** The device was created with 'shader-f16'. */
  f16: boolean;
  /** The device was created with 'subgroups'. */
  subgroups: boolean;
  /** The device was created with 'timestamp-query' (bench: per-dispatch GPU time). */
  timestamps?: boolean;
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();

  constructor(
    readonly device: GPUDevice,
    readonly features: GpuFeatures,
    /**
     * A software adapter (SwiftShader, a fallback adapter): kernels whose best shape
     * differs there pick their variant from this (attention: defaultAttentionVariant).
     */
    readonly software = false,
  ) {}

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * Returns the compute pipeline for `key`, creating it once. `key` must identify the
   * code and the override constants; it becomes the pipeline's label.
   */
  pipeline(key: string, code: string, constants?: Record<string, number>, entryPoint = 'main'): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (p) return p;
    let module = this.modules.get(code);
    if (!module) {
      module = this.device.createShaderModule({ label: key, code });
      this.modules.set(code, module);
    }
    p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants } });
    this.pipelines.set(key, p);
    return p;
  }

  buffer(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    // WebGPU needs sizes that are multiples of 4; zero-size bindings are invalid.
    return this.device.createBuffer({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage });
  }

  storage(label: string, size: number, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    return this.buffer(label, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage);
  }

  /** A storage buffer initialised with `data`. */
  upload(label: string, data: ArrayBufferView<ArrayBuffer>): GPUBuffer {
    const buf = this.storage(label, data.byteLength);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  destroy(): void {
    this.pipelines.clear();
    this.modules.clear();
  }
}
