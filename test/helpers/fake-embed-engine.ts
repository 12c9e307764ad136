// Two models in one real engine (createEngine({ models })) over fake runners: 'stories260K'
// (the chat model of fake-local-engine.ts) and 'embedder' (stories260K's tokenizer, a
// FakeRunner in embedding mode: vectors hashed from the token ids, see fakeEmbedding). The
// runners are kept so tests can count embed batches and read every StepInput.
import { createEngine, type CreateEngineOptions } from '../../src/create-engine';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { FakeRunner } from '../../src/testing/fake-runner';
import { CHATML, fakeChatRunner } from './fake-chat-runner';
import { STORIES_GGUF } from './fake-local-engine';

export { STORIES_GGUF, CHATML };

export const EMBED_ID = 'embedder';
export const CHAT_ID = 'stories260K';

export interface FakeEmbedEngineOptions {
  /** The embedding model's vector size (default 32). */
  embeddingDim?: number;
  /** The embedding model's context in tokens (default 64). */
  embedContext?: number;
  /** Load only the embedding model. */
  embedOnly?: boolean;
  failOnEmbed?: { call: number; error: Error };
  engine?: Partial<CreateEngineOptions>;
}

export interface FakeEmbedEngine {
  engine: MultiEngine;
  /** The runner each model id got (a reloaded id gets its new one). */
  runners: Map<string, FakeRunner>;
  /** Runner factory for loadModel and more engines: picks the embedding runner for ids starting with 'embed'. */
  createRunner: NonNullable<CreateEngineOptions['createRunner']>;
}

export async function fakeEmbedEngine(opts: FakeEmbedEngineOptions = {}): Promise<FakeEmbedEngine> {
  const runners = new Map<string, FakeRunner>();
  const chat = fakeChatRunner({ contextLength: 512, numKvBlocks: 256, onRunner: (r) => runners.set(CHAT_ID, r) });
  const createRunner: FakeEmbedEngine['createRunner'] = async (args) => {
    if (args.modelId?.startsWith('embed')) {
      const r = new FakeRunner({ vocabSize: args.config.vocabSize, contextLength: opts.embedContext ?? 64, numKvBlocks: 2, embeddingDim: opts.embeddingDim ?? 32, failOnEmbed: opts.failOnEmbed });
      runners.set(args.modelId, r);
      return r;
    }
    const r = await chat(args);
    if (args.modelId) runners.set(args.modelId, r as FakeRunner);
    return r;
  };
  const embedModel = { model: STORIES_GGUF, modelId: EMBED_ID };
  const engine = await createEngine({
    models: opts.embedOnly ? [embedModel] : [{ model: STORIES_GGUF, modelId: CHAT_ID, chatTemplate: CHATML }, embedModel],
    createRunner,
    ...opts.engine,
  });
  return { engine, runners, createRunner };
}
