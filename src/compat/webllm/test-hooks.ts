// Test-only hook (not exported from `tabllm/webllm`, not in the docs): replaces the WebGPU
// model runner, the WebGPU entry point and the model storage used by the WebLLM layer, so the layer's tests run
// the real engine core, tokenizer and chat template on a fake runner without a GPU.
import type { RunnerFactoryArgs } from '../../create-engine';
import type { ModelRunner } from '../../engine/types';
import type { ModelStorage } from '../../storage';

export interface WebLLMTestHooks {
  createRunner?: (args: RunnerFactoryArgs) => Promise<ModelRunner>;
  /** Stands in for navigator.gpu (getGPUVendor, getMaxStorageBufferBindingSize, the runner). */
  gpu?: GPU;
  /** Stands in for browser storage (loading, hasModelInCache, deleteModelAllInfoInCache). */
  storage?: ModelStorage;
}

let hooks: WebLLMTestHooks = {};

export function __setWebLLMTestHooks(next: WebLLMTestHooks | undefined): void {
  hooks = next ?? {};
}

export function testHooks(): WebLLMTestHooks {
  return hooks;
}
