// Node GPU provider: the `webgpu` package (Dawn). Finds a Vulkan driver when the
// machine has no GPU (Debian Chromium's SwiftShader ICD) so tests, benchmarks and
// the CLI run without setup. Browsers never import this file.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuError } from './device';

/** Known locations of a software Vulkan ICD (SwiftShader), tried when no adapter is found. */
export const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/** Sets XDG_RUNTIME_DIR when missing (Dawn's Vulkan backend warns and may fail without it). */
export function prepareNodeGpuEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `tabllm-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    env.XDG_RUNTIME_DIR = dir;
  }
}

/** GPU objects handed out by createNodeGPU, kept reachable for the life of the process. */
const liveInstances: GPU[] = [];

export function findSoftwareIcd(): string | undefined {
  return SWIFTSHADER_ICDS.find((p) => existsSync(p));
}

interface WebgpuPackage {
  create: (flags: string[]) => GPU;
  globals: Record<string, unknown>;
}

/**
 * Imports the `webgpu` package. It is an optional dependency (installed by default, but
 * `--omit=optional` or a failed platform install leaves it out): its absence is a coded
 * error that says what to install, not Node's bare "Cannot find package".
 */
export async function importWebgpuPackage(load: () => Promise<unknown> = () => import('webgpu')): Promise<WebgpuPackage> {
  try {
    return (await load()) as WebgpuPackage;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const notFound = e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND';
    if (notFound && String(e.message).includes('webgpu')) {
      throw new GpuError('webgpu_package_missing', "the 'webgpu' package (Dawn, WebGPU for Node) is not installed: run `npm install webgpu` (it is an optional dependency of tabllm)");
    }
    throw err;
  }
}

/**
 * Dawn flags of every `GPU` createNodeGPU makes. `disable_resource_suballocation`: each
 * buffer gets its own memory allocation instead of a block of a shared heap. Dawn's
 * suballocator rounds each buffer up to a power of two inside 4-8 MiB heaps; our buffers
 * are few and large (weight parts, KV pool, step buffers: hundreds, not thousands), so
 * the rounding buys nothing and wastes memory: on SwiftShader, where GPU memory is host
 * memory, 75 MiB of the Qwen2.5-0.5B shape's load (bench/load-memory.ts, #18).
 */
export const NODE_GPU_FLAGS: readonly string[] = ['enable-dawn-features=disable_resource_suballocation'];

/**
 * Returns a `GPU` (like `navigator.gpu`) backed by Dawn (with NODE_GPU_FLAGS). When the machine's own
 * Vulkan drivers give no adapter, falls back to the SwiftShader ICD if present.
 */
export async function createNodeGPU(): Promise<GPU> {
  prepareNodeGpuEnv();
  const webgpu = await importWebgpuPackage();
  // GPUBufferUsage, GPUMapMode, … are globals in browsers; Dawn exports them.
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  let gpu = webgpu.create([...NODE_GPU_FLAGS]);
  if (!process.env.VK_ICD_FILENAMES && !(await gpu.requestAdapter())) {
    const icd = findSoftwareIcd();
    if (icd) {
      process.env.VK_ICD_FILENAMES = icd;
      gpu = webgpu.create([...NODE_GPU_FLAGS]);
    }
  }
  // Dawn frees its instance when the GPU object is garbage-collected, even while a
  // device made from it is alive; later mapAsync/onSubmittedWorkDone then crash the
  // process (seen: futex/mutex aborts in CallbackTaskManager::Flush). Keep it alive.
  liveInstances.push(gpu);
  return gpu;
}
