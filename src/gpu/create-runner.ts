// The default model runner for createEngine: WebGPU. Kept behind a dynamic import so an
// engine built on another runner (tests) never loads GPU code.
import type { RunnerFactoryArgs } from '../engine/engine';
import { EngineError } from '../engine/errors';
import type { ModelRunner } from '../engine/types';

export async function createWebGpuRunner(_args: RunnerFactoryArgs): Promise<ModelRunner> {
  throw new EngineError('engine_not_loaded', 'the WebGPU model runner is not built yet');
}
