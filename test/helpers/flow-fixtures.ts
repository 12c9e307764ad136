// PromptFlow fixtures (../shared/fixtures/promptflow) read as FlowFiles, and an Engine
// wrapper that records every chat/completion request the router hands the engine — what an
// llm node really sent, after the router's validation.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readFlowFolder, type FlowFolder } from '../../src/cli/flow-files';
import type { ChatCompletionCreateParams, CompletionCreateParams, Engine } from '../../src/openai/engine-api';

export const PROMPTFLOW_FIXTURES = resolve(__dirname, '../../../shared/fixtures/promptflow');

/** `flows/chat-basic` or `prompty/format-output/json_format.prompty`. */
export function readFixture(path: string): Promise<FlowFolder> {
  return readFlowFolder(resolve(PROMPTFLOW_FIXTURES, path));
}

export function fixtureText(path: string): string {
  return readFileSync(resolve(PROMPTFLOW_FIXTURES, path), 'utf8');
}

export interface RecordingEngine {
  engine: Engine;
  chats: ChatCompletionCreateParams[];
  completions: CompletionCreateParams[];
}

export function recordingEngine(inner: Engine): RecordingEngine {
  const chats: ChatCompletionCreateParams[] = [];
  const completions: CompletionCreateParams[] = [];
  const engine: Engine = {
    chat: {
      completions: {
        create: ((params: ChatCompletionCreateParams, options?: object) => {
          chats.push(params);
          return inner.chat.completions.create(params, options);
        }) as Engine['chat']['completions']['create'],
      },
    },
    completions: {
      create: ((params: CompletionCreateParams, options?: object) => {
        completions.push(params);
        return inner.completions.create(params, options);
      }) as Engine['completions']['create'],
    },
    models: inner.models,
    embeddings: inner.embeddings,
    tokenize: (p) => inner.tokenize(p),
    detokenize: (p) => inner.detokenize(p),
    stats: () => inner.stats(),
    info: () => inner.info(),
  };
  return { engine, chats, completions };
}
