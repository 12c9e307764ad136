import { createNodeGPU } from '../src/gpu/node-gpu';
const gpu = await createNodeGPU();
const adapter = (await gpu.requestAdapter())!;
const device = await adapter.requestDevice();
const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const src = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.STORAGE });
const t: number[] = [], m: number[] = [];
for (let i = 0; i < 50; i++) {
  let t0 = performance.now();
  device.queue.submit([device.createCommandEncoder().finish()]);
  await device.queue.onSubmittedWorkDone();
  t.push(performance.now() - t0);
  t0 = performance.now();
  const ce = device.createCommandEncoder(); ce.copyBufferToBuffer(src, 0, buf, 0, 16);
  device.queue.submit([ce.finish()]);
  await buf.mapAsync(GPUMapMode.READ);
  buf.unmap();
  m.push(performance.now() - t0);
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!.toFixed(3);
console.log('empty submit→done ms', med(t), 'copy+map ms', med(m));
process.exit(0);
