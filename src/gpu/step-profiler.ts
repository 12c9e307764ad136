// Bench-only per-dispatch GPU timing of a runner step (bench/step-profile.ts): a timestamp
// query set and its resolve/read buffers, made on first use; `attach` gives a step's
// encoder a DispatchProfiler (src/kernels/encoder.ts), `resolve` records the copies after
// the pass, `read` maps the pairs back into nanoseconds per dispatch. Kept out of
// GpuModelRunner.run() so the step reads as upload → forward → sample → readback.
import type { DispatchProfiler } from '../kernels/encoder';
import type { GpuContext } from './context';

/** Timestamp pairs a profiled step can hold (more dispatches run unprofiled). */
const PROFILE_MAX_DISPATCHES = 2048;

export class StepProfiler {
  private queries: { querySet: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | undefined;

  constructor(private readonly ctx: GpuContext) {}

  /** A profiler for this step's encoder, or undefined when the device has no 'timestamp-query'. */
  attach(encoder: GPUCommandEncoder): DispatchProfiler | undefined {
    if (!this.ctx.features.timestamps) return undefined;
    if (!this.queries) {
      const count = 2 * PROFILE_MAX_DISPATCHES;
      this.queries = {
        querySet: this.ctx.device.createQuerySet({ label: 'step:profile', type: 'timestamp', count }),
        // [count] u64 timestamps
        resolve: this.ctx.buffer('step:profile-resolve', count * 8, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC),
        read: this.ctx.buffer('step:profile-read', count * 8, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      };
    }
    return { encoder, querySet: this.queries.querySet, labels: [] };
  }

  /** After the pass ends: resolve the recorded pairs into the read buffer (same submit). */
  resolve(encoder: GPUCommandEncoder, profiler: DispatchProfiler): void {
    if (!this.queries || profiler.labels.length === 0) return;
    const n = 2 * profiler.labels.length;
    encoder.resolveQuerySet(this.queries.querySet, 0, n, this.queries.resolve, 0);
    encoder.copyBufferToBuffer(this.queries.resolve, 0, this.queries.read, 0, n * 8);
  }

  /** After the submit: GPU nanoseconds per dispatch, in recording order. */
  async read(profiler: DispatchProfiler): Promise<Array<{ label: string; ns: number }>> {
    const { labels } = profiler;
    const read = this.queries!.read;
    await read.mapAsync(GPUMapMode.READ, 0, labels.length * 16);
    try {
      const t = new BigUint64Array(read.getMappedRange(0, labels.length * 16));
      return labels.map((label, i) => ({ label, ns: Number(t[2 * i + 1] - t[2 * i]) }));
    } finally {
      read.unmap();
    }
  }

  destroy(): void {
    this.queries?.querySet.destroy();
    this.queries?.resolve.destroy();
    this.queries?.read.destroy();
  }
}
