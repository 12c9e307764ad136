// createNodeGPU turns Dawn's resource suballocation off (NODE_GPU_FLAGS, node-gpu.ts: every
// buffer its own allocation, no power-of-two rounding inside shared heaps). A device must
// still hold thousands of small buffers (a runner makes hundreds) and use them.
import { describe, expect, it } from 'vitest';
import { NODE_GPU_FLAGS } from '../../src/gpu/node-gpu';
import { getTestDevice, readBuffer } from '../helpers/gpu';

describe('Node GPU flags', () => {
  it('without suballocation, 4000 small buffers allocate, and the last one reads back what was written', async () => {
    expect(NODE_GPU_FLAGS).toContain('enable-dawn-features=disable_resource_suballocation');
    const { device } = await getTestDevice(); // made by createNodeGPU
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const buffers: GPUBuffer[] = [];
    for (let i = 0; i < 4000; i++) buffers.push(device.createBuffer({ label: `flags-${i}`, size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC }));
    const last = buffers[buffers.length - 1];
    device.queue.writeBuffer(last, 0, Uint32Array.from({ length: 64 }, (_, i) => i * 7));
    const back = new Uint32Array(await readBuffer(device, last));
    expect(await device.popErrorScope()).toBeNull();
    expect(await device.popErrorScope()).toBeNull();
    expect(Array.from(back)).toEqual(Array.from({ length: 64 }, (_, i) => i * 7));
    for (const b of buffers) b.destroy();
  });
});
