// A LocalEngine (stories260K's tokenizer, the real EngineCore) whose fake "model" writes a
// scripted answer, plus a record of every EngineRequest the facade hands the core: the
// tests of request surfaces (what constraint a field becomes) and of tool calls (what a
// model's output becomes) without a GPU or a grammar.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngineRequest } from '../../src/engine/request';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { Tokenizer } from '../../src/model/tokenizer';
import { engineCore } from './engine-core';
import { fakeLocalEngine, STORIES_GGUF } from './fake-local-engine';

export const CHAT_TEMPLATES = resolve(__dirname, '../../../shared/fixtures/chat-templates');

export function fixtureTemplate(file: string): string {
  return readFileSync(resolve(CHAT_TEMPLATES, file), 'utf8');
}

export interface ScriptedEngine {
  engine: MultiEngine;
  /** Every request the facade handed the core, in order. */
  requests: EngineRequest[];
  /** Sets what the model writes next (each choice writes it, then EOS). */
  say(text: string): void;
}

export async function scriptedEngine(chatTemplate?: string): Promise<ScriptedEngine> {
  const tokenizer = await Tokenizer.fromGGUF(STORIES_GGUF);
  let script: number[] = [];
  const { engine } = await fakeLocalEngine({
    chatTemplate,
    contextLength: 2048,
    numKvBlocks: 512,
    nextToken: (_context, seq) => script[seq.sampleIndex ?? 0] ?? tokenizer.eos,
  });
  const requests: EngineRequest[] = [];
  const core = engineCore(engine);
  const addRequest = core.addRequest.bind(core);
  core.addRequest = (r) => {
    requests.push(r);
    return addRequest(r);
  };
  // One byte-fallback token per UTF-8 byte: SentencePiece's encode would start the answer
  // with its dummy-prefix space, and the model must write the text exactly.
  const byteIds = Array.from({ length: 256 }, (_, b) => tokenizer.tokenId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)!);
  const say = (text: string) => {
    script = Array.from(new TextEncoder().encode(text), (b) => byteIds[b]!);
  };
  return { engine, requests, say };
}
