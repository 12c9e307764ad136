// Shared device for gpu-tier tests: one adapter and device per test file.
import { createNodeGPU } from '../../src/gpu/node-gpu';

let devicePromise: Promise<{ adapter: GPUAdapter; device: GPUDevice }> | undefined;

export function getTestDevice(): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
  devicePromise ??= (async () => {
    const gpu = await createNodeGPU();
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter: install chromium (SwiftShader ICD) or a GPU driver');
    const requiredFeatures = [...adapter.features].filter((f) => f === 'shader-f16' || f === 'subgroups') as GPUFeatureName[];
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      },
    });
    return { adapter, device };
  })();
  return devicePromise;
}

/** Runs `encode` in one submit and reads back `buffer` as bytes. */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, byteLength = buffer.size): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ label: 'test-readback', size: byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder({ label: 'test-readback' });
  enc.copyBufferToBuffer(buffer, 0, staging, 0, byteLength);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.destroy();
  return out;
}
