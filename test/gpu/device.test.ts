import { describe, expect, it } from 'vitest';
import { createGpuContext, GpuError } from '../../src/gpu/device';
import { createNodeGPU } from '../../src/gpu/node-gpu';

/** A GPU whose adapter exposes `features` and whose device is lost when `lose()` is called. */
function fakeGpu(opts: { adapter?: boolean; features?: string[] } = {}) {
  let lose!: (info: GPUDeviceLostInfo) => void;
  const lost = new Promise<GPUDeviceLostInfo>((r) => (lose = r));
  let requested: GPUDeviceDescriptor | undefined;
  const device = { lost, destroy: () => lose({ reason: 'destroyed', message: 'destroyed' } as GPUDeviceLostInfo), limits: {} };
  const adapter = {
    features: new Set(opts.features ?? []),
    limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 },
    info: { vendor: 'fake', architecture: 'test', device: '', description: '' },
    requestDevice: async (d: GPUDeviceDescriptor) => {
      requested = d;
      return device;
    },
  };
  const gpu = { requestAdapter: async () => (opts.adapter === false ? null : adapter) } as unknown as GPU;
  return { gpu, lose, requested: () => requested };
}

describe('createGpuContext', () => {
  it('creates a device with the adapter limits on the real (Dawn) adapter', async () => {
    const gpu = await createNodeGPU();
    const ctx = await createGpuContext({ gpu, precision: 'f32' });
    const adapter = (await gpu.requestAdapter())!;
    expect(ctx.precision).toBe('f32');
    expect(ctx.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(ctx.limits.maxBufferSize).toBe(adapter.limits.maxBufferSize);
    expect(ctx.limits.maxComputeWorkgroupStorageSize).toBe(adapter.limits.maxComputeWorkgroupStorageSize);
    expect(ctx.features.f16).toBe(adapter.features.has('shader-f16'));
    expect(ctx.features.subgroups).toBe(adapter.features.has('subgroups'));
    expect(ctx.device.features.has('shader-f16')).toBe(ctx.features.f16);
    expect(ctx.adapterName.length).toBeGreaterThan(0);
    ctx.destroy();
    const err = await ctx.lost;
    expect(err.code).toBe('device_lost');
    expect(err.reason).toBe('destroyed');
  });

  it('no adapter → GpuError no_adapter', async () => {
    const { gpu } = fakeGpu({ adapter: false });
    const err = await createGpuContext({ gpu }).catch((e) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect(err.code).toBe('no_adapter');
  });

  it('no GPU provider → no_webgpu', async () => {
    const err = await createGpuContext({ gpu: undefined }).catch((e) => e);
    // Node has no navigator.gpu
    expect((err as GpuError).code).toBe('no_webgpu');
  });

  it("precision 'f16' without shader-f16 → unsupported_feature; 'auto' picks by feature", async () => {
    const err = await createGpuContext({ gpu: fakeGpu().gpu, precision: 'f16' }).catch((e) => e);
    expect((err as GpuError).code).toBe('unsupported_feature');
    expect((await createGpuContext({ gpu: fakeGpu().gpu })).precision).toBe('f32');
    const withF16 = fakeGpu({ features: ['shader-f16', 'subgroups'] });
    const ctx = await createGpuContext({ gpu: withF16.gpu });
    expect(ctx.precision).toBe('f16');
    expect(withF16.requested()!.requiredFeatures).toEqual(['shader-f16', 'subgroups']);
    expect((withF16.requested()!.requiredLimits as Record<string, number>).maxStorageBufferBindingSize).toBe(1 << 30);
  });

  it('an unexpected device loss reaches onLost as device_lost; our own destroy does not', async () => {
    const f = fakeGpu();
    const seen: GpuError[] = [];
    const ctx = await createGpuContext({ gpu: f.gpu, onLost: (e) => seen.push(e) });
    f.lose({ reason: 'unknown', message: 'driver reset' } as GPUDeviceLostInfo);
    const err = await ctx.lost;
    expect(err.code).toBe('device_lost');
    expect(err.message).toContain('driver reset');
    expect(seen.map((e) => e.code)).toEqual(['device_lost']);

    const g = fakeGpu();
    const seen2: GpuError[] = [];
    const ctx2 = await createGpuContext({ gpu: g.gpu, onLost: (e) => seen2.push(e) });
    ctx2.destroy();
    expect((await ctx2.lost).reason).toBe('destroyed');
    expect(seen2).toEqual([]);
  });
});
