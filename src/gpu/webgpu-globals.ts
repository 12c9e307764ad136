// WebGPU's flag namespaces (GPUBufferUsage, GPUMapMode, GPUShaderStage) are globals in
// browsers. In Node, the `webgpu` package's `create()` does not install them, so a user who
// passes `gpu: create([])` would hit "GPUBufferUsage is not defined". The values are fixed
// by the WebGPU spec; define them when missing.
const FLAGS: Record<string, Record<string, number>> = {
  GPUBufferUsage: { MAP_READ: 0x1, MAP_WRITE: 0x2, COPY_SRC: 0x4, COPY_DST: 0x8, INDEX: 0x10, VERTEX: 0x20, UNIFORM: 0x40, STORAGE: 0x80, INDIRECT: 0x100, QUERY_RESOLVE: 0x200 },
  GPUMapMode: { READ: 0x1, WRITE: 0x2 },
  GPUShaderStage: { VERTEX: 0x1, FRAGMENT: 0x2, COMPUTE: 0x4 },
  GPUTextureUsage: { COPY_SRC: 0x1, COPY_DST: 0x2, TEXTURE_BINDING: 0x4, STORAGE_BINDING: 0x8, RENDER_ATTACHMENT: 0x10 },
  GPUColorWrite: { RED: 0x1, GREEN: 0x2, BLUE: 0x4, ALPHA: 0x8, ALL: 0xf },
};

export function ensureWebGpuGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  for (const [name, values] of Object.entries(FLAGS)) {
    if (g[name] === undefined) g[name] = Object.freeze({ ...values });
  }
}
