// GpuContext: a device plus what every kernel needs — the features chosen, a
// pipeline cache keyed by a string that is also the pipeline's GPU label, and
// small helpers for labelled buffers. Kernels (src/kernels/<op>.ts) take a GpuContext.
//
// Pipelines are compiled at load, not on first use: the runner records every step shape
// it can meet as a dry run inside collectPipelines(), which gathers the pipelines missing
// from the cache, then awaits compilePipelines() (createComputePipelineAsync, all at
// once; on a software adapter one at a time on this thread, see there). A pipeline still
// missing when a step records is compiled synchronously, so the step works, and counted
// in `pipelineCompiles.onFirstUse` (tests and the bench assert none).

export interface GpuFeatures {
  /** The device was created with 'shader-f16'. */
  f16: boolean;
  /** The device was created with 'subgroups'. */
  subgroups: boolean;
  /** The device was created with 'timestamp-query' (bench: per-dispatch GPU time). */
  timestamps?: boolean;
}

/** What createComputePipeline(Async) needs for one cache key. */
export interface PipelineRequest {
  key: string;
  code: string;
  constants?: Record<string, number>;
  entryPoint: string;
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  /** Set inside collectPipelines(): misses are gathered here instead of compiled. */
  private collecting: Map<string, PipelineRequest> | undefined;
  /** Pipelines compiled so far: at load (compilePipelines) and on first use (a stall for the step that needed it). */
  readonly pipelineCompiles = { atLoad: 0, onFirstUse: 0 };

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
    if (this.collecting) {
      if (!this.collecting.has(key)) this.collecting.set(key, { key, code, constants, entryPoint });
      // A dry run never binds or dispatches it (KernelEncoder.dry): a named stand-in is enough.
      return { label: key } as GPUComputePipeline;
    }
    p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module: this.module(key, code), entryPoint, constants } });
    this.pipelineCompiles.onFirstUse++;
    this.pipelines.set(key, p);
    return p;
  }

  /** Runs `record` (a dry run) and returns the pipelines it asked for that are not compiled yet. */
  collectPipelines(record: () => void): PipelineRequest[] {
    if (this.collecting) throw new Error('internal: collectPipelines is not reentrant');
    this.collecting = new Map();
    try {
      record();
      return [...this.collecting.values()];
    } finally {
      this.collecting = undefined;
    }
  }

  /**
   * Compiles `requests`; resolves when every one is cached. A GPU's driver compiles them
   * in parallel (createComputePipelineAsync, all in flight at once). A software adapter
   * (SwiftShader) compiles in host memory: Dawn's async compiles run on its worker
   * threads, whose allocator arenas keep the compiler's freed working memory (the Qwen2.5-0.5B
   * shape's 15 pipelines: ~220 MiB kept, peak ~260 MiB), where one at a time on this thread
   * keeps ~75 MiB (peak ~180 MiB) and takes a third of the time (bench/load-memory.ts,
   * bench/RESULTS.md). There each pipeline is compiled with createComputePipeline, and the
   * event loop runs between two compiles (the longest blocks it ~2 s on SwiftShader).
   */
  async compilePipelines(requests: readonly PipelineRequest[]): Promise<void> {
    if (this.software) {
      for (const r of requests) {
        if (this.pipelines.has(r.key)) continue;
        this.device.pushErrorScope('internal');
        this.device.pushErrorScope('validation');
        const p = this.device.createComputePipeline(this.pipelineDescriptor(r));
        const validation = this.device.popErrorScope();
        const internal = this.device.popErrorScope();
        const error = (await validation) ?? (await internal);
        if (error) throw new Error(`${r.key}: ${error.message}`);
        this.pipelineCompiles.atLoad++;
        if (!this.pipelines.has(r.key)) this.pipelines.set(r.key, p);
        await new Promise((resolve) => setTimeout(resolve, 0)); // a macrotask: timers and I/O run between compiles
      }
      return;
    }
    await Promise.all(
      requests.map(async (r) => {
        if (this.pipelines.has(r.key)) return;
        const p = await this.device.createComputePipelineAsync(this.pipelineDescriptor(r));
        this.pipelineCompiles.atLoad++;
        // A step on another runner of this context may have compiled it meanwhile: keep one.
        if (!this.pipelines.has(r.key)) this.pipelines.set(r.key, p);
      }),
    );
  }

  private pipelineDescriptor(r: PipelineRequest): GPUComputePipelineDescriptor {
    return { label: r.key, layout: 'auto', compute: { module: this.module(r.key, r.code), entryPoint: r.entryPoint, constants: r.constants } };
  }

  private module(key: string, code: string): GPUShaderModule {
    let module = this.modules.get(code);
    if (!module) {
      module = this.device.createShaderModule({ label: key, code });
      this.modules.set(code, module);
    }
    return module;
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
