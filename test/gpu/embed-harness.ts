// Loading any embedding model (encoder or pooled decoder) for the GPU embedding tests, on
// the shared test device, the way the engine's runner factory does (create-runner.ts).
import { createGpuEncoderRunner } from '../../src/gpu/encoder-runner';
import { createGpuRunner } from '../../src/gpu/runner';
import type { ModelRunner } from '../../src/engine/types';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource } from '../../src/model/gguf/source';
import { getRunnerTestContext } from './runner-harness';

export type EmbedRunner = ModelRunner & { embed: NonNullable<ModelRunner['embed']> };

export async function loadEmbedRunner(bytes: Uint8Array): Promise<EmbedRunner> {
  const ctx = await getRunnerTestContext();
  const source = await openSource(bytes);
  const gguf = await readGGUF(source);
  const config = modelConfigFromGGUF(gguf);
  const runner = config.encoder
    ? await createGpuEncoderRunner({ ctx, gguf, source, config })
    : await createGpuRunner({ ctx, gguf, source, config, kvCacheBytes: 1 << 20 });
  if (!runner.embed) throw new Error(`${config.arch} model has no pooling: no embed()`);
  return runner as EmbedRunner;
}
