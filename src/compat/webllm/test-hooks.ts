// Test-only hook (not exported from `tabllm/webllm`, not in the docs): replaces the WebGPU
// model runner and the WebGPU entry point used by the WebLLM layer, so the layer's tests run
// the real engine core, tokenizer and chat template on a fake runner without a GPU.
import type { RunnerFactoryArgs } from '../../engine/engine';
import type { ModelRunner } from '../../engine/types';

export interface WebLLMTestHooks {
  createRunner?: (args: RunnerFactoryArgs) => Promise<ModelRunner>;
  /** Stands in for navigator.gpu (getGPUVendor, getMaxStorageBufferBindingSize, the runner). */
  gpu?: GPU;
}

let hooks: WebLLMTestHooks = {};

export function __setWebLLMTestHooks(next: WebLLMTestHooks | undefined): void {
  hooks = next ?? {};
}

export function testHooks(): WebLLMTestHooks {
  return hooks;
}
