// The EngineCore behind a created engine's model, for tests that watch the scheduler
// (step widths, KV blocks) or feed it token ids directly.
import type { EngineCore } from '../../src/engine/core';
import type { MultiEngine } from '../../src/openai/multi-engine';

export function engineCore(engine: MultiEngine, model?: string): EngineCore {
  const core = (engine.engineFor(model) as unknown as { genCore: EngineCore | null }).genCore;
  if (!core) throw new Error(`model ${model ?? '(default)'} has no generation core (an embedding model)`);
  return core;
}
