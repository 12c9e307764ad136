// Environment for child processes that use the `webgpu` package (Dawn) on Linux:
// Dawn opens libvulkan.so.1 at start-up; when the system has none, Debian's chromium
// ships one. XDG_RUNTIME_DIR must exist. The SwiftShader ICD itself is chosen in-process
// (src/gpu/node-gpu.ts) only when no real adapter is found.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function gpuChildEnv(base = process.env) {
  const env = { ...base };
  const systemVulkan = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'];
  if (!systemVulkan.some(existsSync) && existsSync('/usr/lib/chromium/libvulkan.so.1')) {
    env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  if (!env.XDG_RUNTIME_DIR) {
    env.XDG_RUNTIME_DIR = join(tmpdir(), 'tabllm-xdg');
    mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  }
  return env;
}
