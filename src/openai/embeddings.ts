// The embeddings facade (OpenAI's `POST /v1/embeddings` shape, #17): the parameter table, the
// four input forms → token-id sequences (with the context rule: 400, or truncation when the
// caller asks), and pooled vectors → the response (unit vectors, `dimensions`, float or
// base64). LocalEngine calls it; the router validates with the same table.

import { EngineError } from '../engine/errors';
import { finishEmbedding } from '../engine/embedding-vector';
import type { Embedding, EmbeddingCreateParams, EmbeddingResponse } from './engine-api';
import { bool, int, invalid, oneOf, str, validateBody, type Check, type ParamTable } from './validate';

/** OpenAI's limit on inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048;

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function tokenIdArray(v: unknown, p: string): void {
  if (!Array.isArray(v)) throw invalid(p, `'${p}' must be an array of token ids, not ${describe(v)}.`);
  if (v.length === 0) throw invalid(p, `'${p}' must not be empty.`);
  v.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw invalid(`${p}[${i}]`, `'${p}[${i}]' must be a token id (an integer >= 0), not ${JSON.stringify(id) ?? describe(id)}.`);
  });
}

/**
 * OpenAI's four forms: a string, strings, token ids, token-id arrays. Empty strings and empty
 * arrays are refused (OpenAI: "'$.input' is invalid"); so is an array mixing forms.
 */
export const embeddingInput: Check = (v, p) => {
  if (typeof v === 'string') {
    if (v === '') throw invalid(p, `'${p}' must not be an empty string.`);
    return;
  }
  if (!Array.isArray(v)) throw invalid(p, `'${p}' must be a string, an array of strings, an array of token ids or an array of token-id arrays, not ${describe(v)}.`);
  if (v.length === 0) throw invalid(p, `'${p}' must not be an empty array.`);
  if (v.length > MAX_EMBEDDING_INPUTS) throw invalid(p, `'${p}' has ${v.length} items; at most ${MAX_EMBEDDING_INPUTS} are allowed.`);
  const first = v[0];
  if (typeof first === 'string') {
    v.forEach((s, i) => {
      if (typeof s !== 'string') throw invalid(`${p}[${i}]`, `'${p}[${i}]' must be a string like '${p}[0]', not ${describe(s)}.`);
      if (s === '') throw invalid(`${p}[${i}]`, `'${p}[${i}]' must not be an empty string.`);
    });
  } else if (typeof first === 'number') {
    tokenIdArray(v, p);
  } else if (Array.isArray(first)) {
    v.forEach((ids, i) => tokenIdArray(ids, `${p}[${i}]`));
  } else {
    throw invalid(`${p}[0]`, `'${p}[0]' must be a string, a token id or a token-id array, not ${describe(first)}.`);
  }
};

export const EMBEDDINGS_TABLE: ParamTable = {
  model: { check: str },
  input: { required: true, check: embeddingInput },
  encoding_format: { check: oneOf('float', 'base64') },
  dimensions: { check: int(1) },
  user: { ignored: true },
  truncate: { check: bool },
  normalize: { check: bool },
};

export function validateEmbeddingParams(body: unknown): EmbeddingCreateParams {
  return validateBody<EmbeddingCreateParams>(body, EMBEDDINGS_TABLE);
}

/** What encoding needs of the model. */
export interface EmbeddingModelFacts {
  vocabSize: number;
  contextLength: number;
  embeddingDim: number;
  /** Text → token ids as the model's embedding inputs are tokenized (special tokens added). */
  encode(text: string): number[];
}

/**
 * The request's inputs as token-id sequences. Token ids must be in the vocabulary; an input
 * longer than the context is a 400 naming it, or with `truncate` cut to its first tokens.
 * Also checks `dimensions` against the model (the table checked its type).
 */
export function embeddingSequences(p: EmbeddingCreateParams, model: EmbeddingModelFacts): Int32Array[] {
  if (p.dimensions != null && p.dimensions > model.embeddingDim) {
    throw invalid('dimensions', `'dimensions' must be at most ${model.embeddingDim}, this model's embedding size; got ${p.dimensions}.`);
  }
  const input = p.input;
  const items: { param: string; ids: ArrayLike<number> }[] = [];
  if (typeof input === 'string') items.push({ param: 'input', ids: model.encode(input) });
  else if (typeof input[0] === 'number') items.push({ param: 'input', ids: input as number[] });
  else (input as (string | number[])[]).forEach((x, i) => items.push({ param: `input[${i}]`, ids: typeof x === 'string' ? model.encode(x) : x }));
  return items.map(({ param, ids }) => {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= model.vocabSize) throw invalid(param, `'${param}' holds token id ${id}, outside the vocabulary [0, ${model.vocabSize}).`);
    }
    let n = ids.length;
    if (n === 0) throw invalid(param, `'${param}' encodes to no tokens.`);
    if (n > model.contextLength) {
      if (p.truncate !== true) {
        throw new EngineError(
          'context_length_exceeded',
          `'${param}' has ${n} tokens; this model's maximum context length is ${model.contextLength} tokens. Shorten it, or ask for truncation (Ollama's truncate: true).`,
          param,
        );
      }
      n = model.contextLength;
    }
    return Int32Array.from({ length: n }, (_, i) => ids[i]!);
  });
}

/** Little-endian float32 bytes in base64, as OpenAI encodes `encoding_format: 'base64'`. */
export function float32ToBase64(v: Float32Array): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  let binary = '';
  // Chunks keep String.fromCharCode's argument count well under engines' limits.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The inverse of float32ToBase64 (tests, the WebLLM layer). */
export function base64ToFloat32(text: string): Float32Array {
  const binary = atob(text);
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  return Float32Array.from({ length: binary.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Pooled vectors → OpenAI's response: unit vectors (raw with `normalize: false`), cut to `dimensions`, float or base64. */
export function embeddingResponse(pooled: readonly Float32Array[], p: EmbeddingCreateParams, model: string, promptTokens: number): EmbeddingResponse {
  const data: Embedding[] = pooled.map((v, index) => {
    const out = finishEmbedding(v, p.dimensions ?? undefined, p.normalize !== false);
    return { object: 'embedding', index, embedding: p.encoding_format === 'base64' ? float32ToBase64(out) : Array.from(out) };
  });
  return { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}
