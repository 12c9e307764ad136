// tabllm's streamed chunks → WebLLM's response shapes, in one pass. Every request runs as a
// tabllm stream (with usage and token ids); `webllmChunks` turns its chat or completion
// chunks straight into WebLLM's chunks, shaped the way WebLLM shapes them:
//   stream:     a delta chunk per piece of text (role 'assistant' on each, for chat), then
//               a final chunk per choice with an empty delta and the finish reason, then a
//               usage chunk with empty choices (always made, so the chat session can count
//               it; dropped on the way out without include_usage);
//   non-stream: `chatCompletion` / `completion` fold those chunks into one object with every
//               choice, finish reasons and usage.extra timings.
// An interrupt (interruptGenerate) ends unfinished choices with finish_reason 'abort', as
// WebLLM does, instead of an error.
import type {
  ChatCompletion as WChatCompletion, ChatCompletionChunk as WChatCompletionChunk, ChatCompletionFinishReason,
  ChatCompletionTokenLogprob, Completion as WCompletion, CompletionUsage as WUsage,
} from './protocol';
import type { ChatCompletionChunk, CompletionChunk, CompletionLogprobs, CompletionTimings, CompletionUsage } from '../../openai/engine-api';
import { isAbortError } from '../../engine/errors';

/** A WebLLM stream chunk of either API. */
export type WebLLMChunk = WChatCompletionChunk | WCompletion;

const utf8 = new TextEncoder();

/** Legacy completions logprobs (parallel arrays) → WebLLM's chat-style records. */
export function chatStyleLogprobs(lp: CompletionLogprobs): ChatCompletionTokenLogprob[] {
  return lp.tokens.map((token, i) => ({
    token,
    logprob: lp.token_logprobs[i] ?? 0,
    bytes: Array.from(utf8.encode(token)),
    top_logprobs: Object.entries(lp.top_logprobs[i] ?? {}).map(([t, logprob]) => ({ token: t, logprob, bytes: Array.from(utf8.encode(t)) })),
  }));
}

/** tabllm usage + timings → WebLLM usage with its `extra` latency fields. */
export function webllmUsage(u: CompletionUsage, t: CompletionTimings | undefined, e2eMs: number): WUsage {
  const prefillS = (t?.promptMs ?? 0) / 1000;
  const decodeS = (t?.decodeMs ?? 0) / 1000;
  const decodeTokens = Math.max(0, u.completion_tokens - 1);
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    extra: {
      e2e_latency_s: (t?.totalMs ?? e2eMs) / 1000,
      prefill_tokens_per_s: prefillS > 0 ? u.prompt_tokens / prefillS : 0,
      decode_tokens_per_s: decodeS > 0 ? decodeTokens / decodeS : 0,
      time_to_first_token_s: prefillS,
      time_per_output_token_s: decodeTokens > 0 ? decodeS / decodeTokens : 0,
    },
  };
}

export interface ResponseMeta {
  id: string;
  model: string;
  created: number;
}

export interface WebLLMChunkOptions {
  kind: 'chat' | 'completion';
  meta: ResponseMeta;
  n: number;
  withLogprobs: boolean;
  startMs: number;
  /** True once interruptGenerate() has aborted this request. */
  interrupted: () => boolean;
  /** Prompt token count for the usage of an interrupted request (tabllm sends none then). */
  countPromptTokens: () => Promise<number>;
}

/** The three WebLLM chunks a request makes, for one API. */
function chunkMaker(o: WebLLMChunkOptions) {
  const { id, model, created } = o.meta;
  const lp = (logprobs: ChatCompletionTokenLogprob[] | null) => (o.withLogprobs ? { content: logprobs ?? [] } : null);
  if (o.kind === 'chat') {
    const base = { id, model, object: 'chat.completion.chunk' as const, created };
    return {
      delta: (index: number, text: string, logprobs: ChatCompletionTokenLogprob[] | null): WebLLMChunk =>
        ({ ...base, choices: [{ index, delta: { content: text, role: 'assistant' }, finish_reason: null, logprobs: lp(logprobs) }] }),
      finish: (index: number, reason: ChatCompletionFinishReason): WebLLMChunk => ({ ...base, choices: [{ index, delta: {}, finish_reason: reason }] }),
      usage: (usage: WUsage): WebLLMChunk => ({ ...base, choices: [], usage }),
    };
  }
  const base = { id, model, object: 'text_completion' as const, created };
  return {
    delta: (index: number, text: string, logprobs: ChatCompletionTokenLogprob[] | null): WebLLMChunk =>
      ({ ...base, choices: [{ index, text, finish_reason: null, logprobs: lp(logprobs) }] }),
    finish: (index: number, reason: ChatCompletionFinishReason): WebLLMChunk => ({ ...base, choices: [{ index, text: '', finish_reason: reason }] }),
    usage: (usage: WUsage): WebLLMChunk => ({ ...base, choices: [], usage }),
  };
}

/** One tabllm chunk stream (chat or completion) → WebLLM chunks; always ends with one usage chunk. */
export async function* webllmChunks(source: AsyncIterable<ChatCompletionChunk | CompletionChunk>, o: WebLLMChunkOptions): AsyncGenerator<WebLLMChunk> {
  const make = chunkMaker(o);
  const finished = new Set<number>();
  const completionTokens = Array<number>(o.n).fill(0);
  try {
    for await (const chunk of source) {
      if (chunk.usage) {
        yield make.usage(webllmUsage(chunk.usage, chunk.timings, performance.now() - o.startMs));
        continue;
      }
      for (const choice of chunk.choices) {
        const isChat = 'delta' in choice;
        const text = isChat ? (choice.delta.content ?? '') : choice.text;
        completionTokens[choice.index] = (completionTokens[choice.index] ?? 0) + (choice.token_ids?.length ?? 0);
        const logprobs = isChat ? (choice.logprobs?.content ?? null) : choice.logprobs ? chatStyleLogprobs(choice.logprobs) : null;
        if (text !== '' || logprobs) yield make.delta(choice.index, text, logprobs);
        if (choice.finish_reason) {
          finished.add(choice.index);
          yield make.finish(choice.index, choice.finish_reason);
        }
      }
    }
  } catch (err) {
    if (!(isAbortError(err) && o.interrupted())) throw err;
    for (let index = 0; index < o.n; index++) if (!finished.has(index)) yield make.finish(index, 'abort');
    const completion = completionTokens.reduce((a, b) => a + b, 0);
    const prompt = await o.countPromptTokens();
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: 0 } };
    yield make.usage(webllmUsage(usage, undefined, performance.now() - o.startMs));
  }
}

/** The stream an app sees: the usage chunk only with include_usage. */
export async function* streamed<C extends WebLLMChunk>(chunks: AsyncIterable<WebLLMChunk>, includeUsage: boolean): AsyncGenerator<C> {
  for await (const chunk of chunks) if (includeUsage || !chunk.usage) yield chunk as C;
}

interface Collected {
  texts: string[];
  logprobs: ChatCompletionTokenLogprob[][];
  finish: ChatCompletionFinishReason[];
  usage: WUsage | undefined;
}

async function collect(chunks: AsyncIterable<WebLLMChunk>, n: number): Promise<Collected> {
  const c: Collected = { texts: Array(n).fill(''), logprobs: Array.from({ length: n }, () => []), finish: Array(n).fill('stop'), usage: undefined };
  for await (const chunk of chunks) {
    if (chunk.usage) c.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.finish_reason) c.finish[choice.index] = choice.finish_reason;
      else c.texts[choice.index] += 'delta' in choice ? (choice.delta.content ?? '') : choice.text;
      if (choice.logprobs?.content) c.logprobs[choice.index]!.push(...choice.logprobs.content);
    }
  }
  return c;
}

export async function chatCompletion(chunks: AsyncIterable<WebLLMChunk>, n: number, meta: ResponseMeta, withLogprobs: boolean): Promise<WChatCompletion> {
  const c = await collect(chunks, n);
  return {
    id: meta.id,
    object: 'chat.completion',
    model: meta.model,
    created: meta.created,
    choices: c.texts.map((content, index) => ({
      index,
      finish_reason: c.finish[index]!,
      logprobs: withLogprobs ? { content: c.logprobs[index]! } : null,
      message: { role: 'assistant', content },
    })),
    usage: c.usage,
  };
}

export async function completion(chunks: AsyncIterable<WebLLMChunk>, n: number, meta: ResponseMeta, withLogprobs: boolean, echoPrompt: string | undefined): Promise<WCompletion> {
  const c = await collect(chunks, n);
  return {
    id: meta.id,
    object: 'text_completion',
    model: meta.model,
    created: meta.created,
    choices: c.texts.map((text, index) => ({
      index,
      finish_reason: c.finish[index]!,
      logprobs: withLogprobs ? { content: c.logprobs[index]! } : null,
      text: (echoPrompt ?? '') + text,
    })),
    usage: c.usage,
  };
}
