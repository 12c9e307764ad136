// The lenient output budget of the Ollama routes and the WebLLM facade: a max_tokens the
// context cannot hold after the prompt is cut to what is left, where the OpenAI routes
// answer vLLM's 400. Ollama would shift the context and go on, WebLLM stops when its KV
// cache is full; tabllm ends with finish_reason "length" (Ollama's done_reason "length").
import type { Engine, TokenizeParams } from './engine-api';
import { EngineError } from '../engine/errors';

/**
 * `maxTokens` capped at the context the prompt leaves (Infinity: all of it). Throws
 * `context_length_exceeded` when the prompt alone fills the context.
 */
export async function fitMaxTokens(engine: Pick<Engine, 'tokenize'>, maxTokens: number, prompt: TokenizeParams): Promise<number> {
  const { count, max_model_len: contextLength } = await engine.tokenize(prompt);
  const left = contextLength - count;
  if (left <= 0) {
    throw new EngineError('context_length_exceeded', `The prompt (${count} tokens) fills the context (${contextLength}).`, 'messages' in prompt ? 'messages' : 'prompt');
  }
  return Math.min(maxTokens, left);
}
