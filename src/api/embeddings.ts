// `POST /v1/embeddings` (OpenAI's and vLLM's): the body is checked with the facade's table
// (src/openai/embeddings.ts: the four input forms, encoding_format, dimensions), the model
// resolved, and the engine's answer sent as it is — unit vectors, float or base64, with usage.

import { validateEmbeddingParams } from '../openai/embeddings';
import { resolveModel, type RouteContext } from './context';
import { jsonResponse } from './errors';

export async function createEmbeddings(ctx: RouteContext): Promise<Response> {
  const params = validateEmbeddingParams(ctx.body);
  const model = await resolveModel(ctx.engine, params.model);
  return jsonResponse(await ctx.engine.embeddings.create({ ...params, model }, { signal: ctx.signal }));
}
