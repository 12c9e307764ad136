// The one test harness for kernels (test/gpu/matmul-run.ts builds its op helpers on it): record one pass with a fresh uniform arena, submit once,
// read back chosen buffers. Also seeded random helpers for ragged-shape oracle tests.
import { GpuContext } from '../../../src/gpu/context';
import { UniformArena, type KernelEncoder } from '../../../src/kernels/encoder';
import { getTestDevice, readBuffer } from '../../helpers/gpu';
import { rng } from '../../helpers/rng';
export { rng };

const contexts = new Map<boolean, Promise<GpuContext>>();

/**
 * One context per test file and precision, so pipelines compile once (SwiftShader takes
 * seconds per tiled pipeline). `f16`: default the device's 'shader-f16'; false pins the f32
 * paths (matmul, embedding).
 */
export async function getTestContext(opts: { f16?: boolean } = {}): Promise<GpuContext> {
  const { device } = await getTestDevice();
  const f16 = opts.f16 ?? device.features.has('shader-f16');
  if (!contexts.has(f16)) contexts.set(f16, Promise.resolve(new GpuContext(device, { f16, subgroups: false })));
  return contexts.get(f16)!;
}

/** Records `body` into one compute pass and submits it (one writeBuffer for uniforms). */
export async function runPass(ctx: GpuContext, body: (enc: KernelEncoder) => void, arenaBytes = 1 << 16): Promise<KernelEncoder> {
  const uniforms = new UniformArena(ctx, arenaBytes, 'test-uniforms');
  const cmd = ctx.device.createCommandEncoder({ label: 'test-pass' });
  const pass = cmd.beginComputePass({ label: 'test-pass' });
  const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
  ctx.device.pushErrorScope('validation');
  try {
    body(enc);
    pass.end();
    uniforms.flush();
    ctx.device.queue.submit([cmd.finish()]);
  } catch (e) {
    // A kernel that refuses its arguments throws while recording: leave no scope or arena behind.
    void ctx.device.popErrorScope();
    uniforms.destroy();
    throw e;
  }
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
