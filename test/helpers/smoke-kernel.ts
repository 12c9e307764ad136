// The GPU smoke test shared by all three tiers: y[i] = x[i] * 2 + i over a ragged length.
// Runs anywhere a GPUDevice exists (Node/Dawn, a Chromium page, a Chromium worker).

const SMOKE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;        // [n] f32
@group(0) @binding(1) var<storage, read_write> y: array<f32>;  // [n] f32
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= arrayLength(&y)) { return; }
  y[i] = x[i] * 2.0 + f32(i);
}`;

export const SMOKE_N = 1001;

export function smokeInput(): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: SMOKE_N }, (_, i) => Math.fround(Math.sin(i) * 100));
}

export function smokeExpected(x: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer> {
  return x.map((v, i) => Math.fround(v * 2 + i));
}

export async function runSmoke(device: GPUDevice, x: Float32Array<ArrayBuffer>): Promise<Float32Array> {
  const module = device.createShaderModule({ label: 'smoke', code: SMOKE_WGSL });
  const pipeline = device.createComputePipeline({ label: 'smoke', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const xBuf = device.createBuffer({ label: 'smoke-x', size: x.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const yBuf = device.createBuffer({ label: 'smoke-y', size: x.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readBuf = device.createBuffer({ label: 'smoke-read', size: x.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(xBuf, 0, x);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: xBuf } }, { binding: 1, resource: { buffer: yBuf } }],
  });
  const enc = device.createCommandEncoder({ label: 'smoke' });
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(x.length / 64));
  pass.end();
  enc.copyBufferToBuffer(yBuf, 0, readBuf, 0, x.byteLength);
  device.queue.submit([enc.finish()]);
  await readBuf.mapAsync(GPUMapMode.READ);
  const y = new Float32Array(readBuf.getMappedRange().slice(0));
  for (const b of [xBuf, yBuf, readBuf]) b.destroy();
  return y;
}

/** Requests an adapter/device from `gpu` and runs the smoke kernel; returns plain arrays (postMessage-safe). */
export async function smokeOnGpu(gpu: GPU): Promise<{ adapter: string; got: number[]; want: number[] }> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  const x = smokeInput();
  const got = await runSmoke(device, x);
  device.destroy();
  const info = adapter.info;
  return { adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim(), got: [...got], want: [...smokeExpected(x)] };
}
