// `engine.embeddings.create` / `engine.embedding()` with WebLLM's semantics (WebLLM's
// openai_api_protocols/embedding.ts): `dimensions` and `user` are UnsupportedFieldsError,
// base64 is EmbeddingUnsupportedEncodingFormatError, an empty input (string, array, or an
// inner one) is EmbeddingInputEmptyError, an input over the context is
// EmbeddingExceedContextWindowSizeError, a model without pooling is
// EmbeddingUnsupportedModelError; the answer carries WebLLM's `usage.extra.prefill_tokens_per_s`.
// Unlike WebLLM, requests are not serialized per model: tabllm batches concurrent ones.

import { EngineError } from '../../engine/errors';
import type { Engine } from '../../openai/engine-api';
import { UnsupportedFieldsError, WebLLMCompatError } from './errors';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from './protocol';

/** WebLLM's EmbeddingCreateParamsUnsupportedFields: present at all (even undefined) is an error. */
const UNSUPPORTED_FIELDS = ['dimensions', 'user'];

export function checkEmbeddingRequest(request: EmbeddingCreateParams): void {
  const unsupported = UNSUPPORTED_FIELDS.filter((f) => f in request);
  if (unsupported.length > 0) throw new UnsupportedFieldsError(unsupported, 'EmbeddingCreateParams');
  if (request.encoding_format === 'base64') {
    throw new WebLLMCompatError('unsupported_parameter', 'EmbeddingUnsupportedEncodingFormatError', 'Embedding in base64 format is currently not supported.');
  }
  const input = request.input as unknown;
  const empty = () => new WebLLMCompatError('invalid_request', 'EmbeddingInputEmptyError', 'Embedding input cannot be empty string or empty token array.');
  if (typeof input === 'string') {
    if (input === '') throw empty();
  } else if (Array.isArray(input)) {
    if (input.length === 0) throw empty();
    for (const item of input) if (typeof item !== 'number' && (item as { length?: number })?.length === 0) throw empty();
  }
}

export async function webllmEmbedding(engine: Engine, modelId: string, request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse> {
  checkEmbeddingRequest(request);
  const info = await engine.info();
  if (info.task !== 'embed') {
    throw new WebLLMCompatError('unsupported', 'EmbeddingUnsupportedModelError', `Trying to run embeddings.create() with ${modelId}, which is not an embedding model (its GGUF has no pooling); load an embedding GGUF (bert, nomic-bert, or a decoder with pooling) for embeddings.`);
  }
  const started = performance.now();
  let result;
  try {
    result = await engine.embeddings.create({ input: request.input });
  } catch (err) {
    if (err instanceof EngineError && err.code === 'context_length_exceeded') {
      throw new WebLLMCompatError('context_length_exceeded', 'EmbeddingExceedContextWindowSizeError', `The embedding model you are using only supports up to ${info.contextLength} context size. ${err.message}`);
    }
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  const tokens = result.usage.prompt_tokens;
  return {
    object: 'list',
    model: modelId,
    data: result.data.map((d) => ({ object: 'embedding', index: d.index, embedding: d.embedding as number[] })),
    usage: { prompt_tokens: tokens, total_tokens: tokens, extra: { prefill_tokens_per_s: seconds > 0 ? tokens / seconds : 0 } },
  };
}
