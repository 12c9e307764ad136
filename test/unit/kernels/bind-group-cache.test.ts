// BindGroupCache without a GPU (a fake device counts createBindGroup): dispatch i of a step
// reuses dispatch i's group of the last step, groups made for another shape are found
// again by their buffers, a changed offset or buffer makes a new one, clear() drops all.
import { describe, expect, it } from 'vitest';
import { BindGroupCache } from '../../../src/kernels/bind-group-cache';

function fakeDevice() {
  const made: unknown[] = [];
  const device = {
    createBindGroup: (d: { entries: unknown[] }) => {
      const g = { id: made.length, entries: d.entries };
      made.push(g);
      return g as unknown as GPUBindGroup;
    },
  } as unknown as GPUDevice;
  return { device, made };
}
const pipeline = (label: string) => ({ label, getBindGroupLayout: () => ({}) }) as unknown as GPUComputePipeline;
const buffer = (label: string) => ({ label, size: 1024 }) as unknown as GPUBuffer;

describe('BindGroupCache', () => {
  it('creates each group once across steps and shapes, and again after clear()', () => {
    const { device, made } = fakeDevice();
    const cache = new BindGroupCache();
    const [p1, p2] = [pipeline('a'), pipeline('b')];
    const [x, y, u] = [buffer('x'), buffer('y'), buffer('u')];
    const stepA = () => {
      cache.beginStep();
      return [cache.get(device, p1, [x, y, { buffer: u, offset: 0, size: 16 }]), cache.get(device, p2, [y, x, { buffer: u, offset: 256, size: 16 }])];
    };
    const stepB = () => {
      cache.beginStep();
      return [cache.get(device, p2, [y, x, { buffer: u, offset: 0, size: 16 }])];
    };
    const first = stepA();
    expect(made).toHaveLength(2);
    expect(stepA()).toEqual(first); // the same objects
    expect(made).toHaveLength(2);
    stepB(); // a new shape: slot 0 differs (pipeline and offset) → one new group
    expect(made).toHaveLength(3);
    expect(stepA()).toEqual(first); // found again by key, not recreated
    expect(stepB()).toHaveLength(1);
    expect(cache.created).toBe(3);
    // Another buffer or another size at the same place is another group.
    cache.beginStep();
    cache.get(device, p1, [x, buffer('y2'), { buffer: u, offset: 0, size: 16 }]);
    cache.get(device, p2, [y, x, { buffer: u, offset: 256, size: 32 }]);
    expect(cache.created).toBe(5);
    cache.clear();
    stepA();
    expect(cache.created).toBe(7);
  });
});
