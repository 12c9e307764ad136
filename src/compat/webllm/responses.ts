// tabllm's streamed chunks → WebLLM's response shapes. Every request runs as a tabllm
// stream (with usage and token ids); `normalize` turns its chat or completion chunks into
// plain events, and the builders here shape them the way WebLLM does:
//   stream:     a delta chunk per piece of text (role 'assistant' on each), then a final
//               chunk per choice with an empty delta and the finish reason, then (with
//               include_usage) a usage chunk with empty choices;
//   non-stream: one object with every choice, finish reasons and usage.extra timings.
// An interrupt (interruptGenerate) ends unfinished choices with finish_reason 'abort', as
// WebLLM does, instead of an error.
import type { ChatCompletion as WChatCompletion, ChatCompletionChunk as WChatCompletionChunk, ChatCompletionFinishReason, ChatCompletionTokenLogprob, Completion as WCompletion, CompletionUsage as WUsage } from './protocol';
import type {
  ChatCompletionChunk,
  CompletionChunk,
  CompletionLogprobs,
  CompletionTimings,
  CompletionUsage,
} from '../../openai/engine-api';
import { isAbortError } from '../../engine/errors';

export type RunEvent =
  | { type: 'delta'; index: number; text: string; numTokens: number; logprobs: ChatCompletionTokenLogprob[] | null }
  | { type: 'finish'; index: number; reason: ChatCompletionFinishReason }
  | { type: 'usage'; usage: WUsage };

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

export interface NormalizeOptions {
  n: number;
  startMs: number;
  /** True once interruptGenerate() has aborted this request. */
  interrupted: () => boolean;
  /** Prompt token count for the usage of an interrupted request (tabllm sends none then). */
  countPromptTokens: () => Promise<number>;
}

/** One tabllm chunk stream (chat or completion) → RunEvents; always ends with one usage event. */
export async function* normalize(source: AsyncIterable<ChatCompletionChunk | CompletionChunk>, o: NormalizeOptions): AsyncGenerator<RunEvent> {
  const finished = new Set<number>();
  const completionTokens = Array<number>(o.n).fill(0);
  try {
    for await (const chunk of source) {
      if (chunk.usage) {
        yield { type: 'usage', usage: webllmUsage(chunk.usage, chunk.timings, performance.now() - o.startMs) };
        continue;
      }
      for (const choice of chunk.choices) {
        const isChat = 'delta' in choice;
        const text = isChat ? (choice.delta.content ?? '') : choice.text;
        const ids = choice.token_ids ?? [];
        completionTokens[choice.index] = (completionTokens[choice.index] ?? 0) + ids.length;
        const logprobs = isChat ? (choice.logprobs?.content ?? null) : choice.logprobs ? chatStyleLogprobs(choice.logprobs) : null;
        if (text !== '' || ids.length > 0 || logprobs) yield { type: 'delta', index: choice.index, text, numTokens: ids.length, logprobs };
        if (choice.finish_reason) {
          finished.add(choice.index);
          yield { type: 'finish', index: choice.index, reason: choice.finish_reason };
        }
      }
    }
  } catch (err) {
    if (!(isAbortError(err) && o.interrupted())) throw err;
    for (let index = 0; index < o.n; index++) if (!finished.has(index)) yield { type: 'finish', index, reason: 'abort' };
    const completion = completionTokens.reduce((a, b) => a + b, 0);
    const prompt = await o.countPromptTokens();
    yield { type: 'usage', usage: webllmUsage({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: 0 } }, undefined, performance.now() - o.startMs) };
  }
}

export interface ResponseMeta {
  id: string;
  model: string;
  created: number;
}

/** WebLLM's chat stream chunks from RunEvents. `onEvent` sees every event first (session tracking). */
export async function* chatChunks(events: AsyncIterable<RunEvent>, meta: ResponseMeta, includeUsage: boolean, withLogprobs: boolean): AsyncGenerator<WChatCompletionChunk> {
  const base = { id: meta.id, model: meta.model, object: 'chat.completion.chunk' as const, created: meta.created };
  for await (const ev of events) {
    if (ev.type === 'delta') {
      if (ev.text === '' && !ev.logprobs) continue;
      yield { ...base, choices: [{ index: ev.index, delta: { content: ev.text, role: 'assistant' }, finish_reason: null, logprobs: withLogprobs ? { content: ev.logprobs ?? [] } : null }] };
    } else if (ev.type === 'finish') {
      yield { ...base, choices: [{ index: ev.index, delta: {}, finish_reason: ev.reason }] };
    } else if (includeUsage) {
      yield { ...base, choices: [], usage: ev.usage };
    }
  }
}

export async function* completionChunks(events: AsyncIterable<RunEvent>, meta: ResponseMeta, includeUsage: boolean, withLogprobs: boolean): AsyncGenerator<WCompletion> {
  const base = { id: meta.id, model: meta.model, object: 'text_completion' as const, created: meta.created };
  for await (const ev of events) {
    if (ev.type === 'delta') {
      if (ev.text === '' && !ev.logprobs) continue;
      yield { ...base, choices: [{ index: ev.index, text: ev.text, finish_reason: null, logprobs: withLogprobs ? { content: ev.logprobs ?? [] } : null }] };
    } else if (ev.type === 'finish') {
      yield { ...base, choices: [{ index: ev.index, text: '', finish_reason: ev.reason }] };
    } else if (includeUsage) {
      yield { ...base, choices: [], usage: ev.usage };
    }
  }
}

interface Collected {
  texts: string[];
  logprobs: ChatCompletionTokenLogprob[][];
  finish: ChatCompletionFinishReason[];
  usage: WUsage | undefined;
}

async function collect(events: AsyncIterable<RunEvent>, n: number): Promise<Collected> {
  const c: Collected = { texts: Array(n).fill(''), logprobs: Array.from({ length: n }, () => []), finish: Array(n).fill('stop'), usage: undefined };
  for await (const ev of events) {
    if (ev.type === 'delta') {
      c.texts[ev.index] += ev.text;
      if (ev.logprobs) c.logprobs[ev.index]!.push(...ev.logprobs);
    } else if (ev.type === 'finish') c.finish[ev.index] = ev.reason;
    else c.usage = ev.usage;
  }
  return c;
}

export async function chatCompletion(events: AsyncIterable<RunEvent>, n: number, meta: ResponseMeta, withLogprobs: boolean): Promise<WChatCompletion> {
  const c = await collect(events, n);
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

export async function completion(events: AsyncIterable<RunEvent>, n: number, meta: ResponseMeta, withLogprobs: boolean, echoPrompt: string | undefined): Promise<WCompletion> {
  const c = await collect(events, n);
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
