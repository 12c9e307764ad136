// Dawn's null backend (`create(['backend=null'])` from the `webgpu` package): an adapter
// that advertises 'shader-f16' on any machine. WGSL is parsed and validated by Tint,
// pipelines, bind groups and command buffers are validated, but nothing executes and
// readbacks return whatever the buffer memory holds. It checks that the f16 path is
// well-formed where no adapter with shader-f16 exists; it says nothing about numbers.

/** GPU objects handed out here, kept reachable (Dawn frees its instance when the GPU object is collected). */
const liveInstances: GPU[] = [];

export async function createNullGPU(): Promise<GPU> {
  const webgpu = (await import('webgpu')) as unknown as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = webgpu.create(['backend=null']);
  liveInstances.push(gpu);
  return gpu;
}

/** True when `adapter` is Dawn's null backend (GPUAdapterInfo.device 'null-backend'). */
export function isNullAdapter(adapter: GPUAdapter): boolean {
  return adapter.info?.device === 'null-backend';
}
