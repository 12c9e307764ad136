// The `webgpu` package is optional: without it, createNodeGPU fails with a coded error that
// says what to install (not Node's bare "Cannot find package 'webgpu'").
import { describe, expect, it } from 'vitest';
import { GpuError } from '../../../src/gpu/device';
import { importWebgpuPackage } from '../../../src/gpu/node-gpu';

describe('importWebgpuPackage', () => {
  it('a missing webgpu package is webgpu_package_missing naming `npm install webgpu`', async () => {
    // Node's own error for an absent package, from a real import.
    const missing = () => import(/* @vite-ignore */ ['webgpu', 'not-installed'].join('-'));
    const err = await importWebgpuPackage(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).code).toBe('webgpu_package_missing');
    expect((err as GpuError).message).toContain('npm install webgpu');
  });

  it('other failures pass through unchanged', async () => {
    const broken = new Error('dawn.node: cannot open shared object file');
    await expect(importWebgpuPackage(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('returns the installed package', async () => {
    const pkg = await importWebgpuPackage();
    expect(typeof pkg.create).toBe('function');
  });
});
