// `tabllm/node`: Node-only helpers. The GPU comes from the `webgpu` package (Dawn);
// `createNodeGPU()` finds a Vulkan driver (the machine's GPU, else SwiftShader).
export { createNodeGPU, prepareNodeGpuEnv, findSoftwareIcd, SWIFTSHADER_ICDS } from './gpu/node-gpu';
export { serveFetchHandler } from './cli/http-server';
export type { FetchHandler, RunningServer, ServeOptions, ServerStats } from './cli/http-server';
