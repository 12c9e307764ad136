// Test harness for kernels: record one pass with a fresh uniform arena, submit once,
// read back chosen buffers. Also seeded random helpers for ragged-shape oracle tests.
import { GpuContext } from '../../../src/gpu/context';
import { UniformArena, type KernelEncoder } from '../../../src/kernels/encoder';
import { getTestDevice, readBuffer } from '../../helpers/gpu';
import { rng } from '../../helpers/rng';
export { rng };

let ctxPromise: Promise<GpuContext> | undefined;
export function getTestContext(): Promise<GpuContext> {
  ctxPromise ??= getTestDevice().then(({ device }) => new GpuContext(device, { f16: device.features.has('shader-f16'), subgroups: false }));
  return ctxPromise;
}

/** Records `body` into one compute pass and submits it (one writeBuffer for uniforms). */
export async function runPass(ctx: GpuContext, body: (enc: KernelEncoder) => void, arenaBytes = 1 << 16): Promise<KernelEncoder> {
  const uniforms = new UniformArena(ctx, arenaBytes, 'test-uniforms');
  const cmd = ctx.device.createCommandEncoder({ label: 'test-pass' });
  const pass = cmd.beginComputePass({ label: 'test-pass' });
  const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
  ctx.device.pushErrorScope('validation');
  body(enc);
  pass.end();
  uniforms.flush();
  ctx.device.queue.submit([cmd.finish()]);
  const err = await ctx.device.popErrorScope();
  if (err) throw new Error(`WebGPU validation: ${err.message}`);
  await ctx.device.queue.onSubmittedWorkDone();
  uniforms.destroy();
  return enc;
}

export async function readF32(ctx: GpuContext, buf: GPUBuffer, n?: number): Promise<Float32Array> {
  const bytes = await readBuffer(ctx.device, buf, n === undefined ? buf.size : Math.max(4, n * 4));
  return new Float32Array(bytes);
}
export async function readU32(ctx: GpuContext, buf: GPUBuffer, n?: number): Promise<Uint32Array> {
  const bytes = await readBuffer(ctx.device, buf, n === undefined ? buf.size : Math.max(4, n * 4));
  return new Uint32Array(bytes);
}


/** [n] f32 values uniform in [-scale, scale). */
export function randomF32(rand: () => number, n: number, scale = 1): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

export function shuffled(rand: () => number, n: number): Int32Array<ArrayBuffer> {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** max |got - want| over all elements. */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length < want.length) throw new Error(`length ${got.length} < ${want.length}`);
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
