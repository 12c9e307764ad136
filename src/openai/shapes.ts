// Builders for OpenAI's wire objects from engine events: chat and completion choices,
// chunks, usage, and both logprob formats (chat's per-token records, completions'
// parallel arrays). Pure functions over plain data.
import type {
  ChatTokenLogprob,
  CompletionLogprobs,
  CompletionTimings,
  CompletionUsage,
  FinishReason,
  TopLogprob,
} from './engine-api';
import type { RequestTimings, Usage } from '../engine/core';
import type { FinishReason as CoreFinishReason } from '../engine/stop';
import type { SampledToken } from '../engine/types';

/** How the engine names a token in logprobs: its text and its UTF-8 bytes. */
export type TokenTextFn = (tokenId: number) => { text: string; bytes: number[] };

export function toUsage(u: Usage): CompletionUsage {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
  };
}

export function sumUsage(parts: CompletionUsage[]): CompletionUsage {
  const total: CompletionUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } };
  for (const u of parts) {
    total.prompt_tokens += u.prompt_tokens;
    total.completion_tokens += u.completion_tokens;
    total.total_tokens += u.total_tokens;
    total.prompt_tokens_details.cached_tokens += u.prompt_tokens_details.cached_tokens;
  }
  return total;
}

export function toTimings(t: RequestTimings | undefined, completionTokens: number, totalMs: number): CompletionTimings {
  const queuedMs = t?.queueMs ?? 0;
  const promptMs = Math.max(0, (t?.ttftMs ?? totalMs) - queuedMs);
  const decodeMs = t && t.decodeTokensPerSecond > 0 && completionTokens > 1 ? ((completionTokens - 1) / t.decodeTokensPerSecond) * 1000 : 0;
  return { queuedMs, promptMs, decodeMs, totalMs };
}

/** 'abort' never reaches the wire: the stream or call fails with an AbortError instead. */
export function toFinishReason(r: CoreFinishReason | undefined): FinishReason | null {
  return r === 'stop' || r === 'length' ? r : null;
}

function topList(t: SampledToken, tokenText: TokenTextFn): TopLogprob[] {
  return (t.topLogprobs ?? []).map((e) => {
    const { text, bytes } = tokenText(e.tokenId);
    return { token: text, logprob: e.logprob, bytes };
  });
}

export function chatLogprobs(tokens: SampledToken[], tokenText: TokenTextFn): ChatTokenLogprob[] {
  return tokens.map((t) => {
    const { text, bytes } = tokenText(t.tokenId);
    return { token: text, logprob: t.logprob ?? 0, bytes, top_logprobs: topList(t, tokenText) };
  });
}

/** Appends tokens to a legacy-completions logprobs record; `offset` is the text offset of the first. */
export function appendCompletionLogprobs(
  into: CompletionLogprobs,
  tokens: SampledToken[],
  tokenText: TokenTextFn,
  offset: number,
): number {
  for (const t of tokens) {
    const { text } = tokenText(t.tokenId);
    into.tokens.push(text);
    into.token_logprobs.push(t.logprob ?? null);
    const top: Record<string, number> = {};
    for (const e of topList(t, tokenText)) top[e.token] = e.logprob;
    into.top_logprobs.push(t.topLogprobs ? top : null);
    into.text_offset.push(offset);
    offset += text.length;
  }
  return offset;
}

export function emptyCompletionLogprobs(): CompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}

let idCounter = 0;
/** Request ids like OpenAI's (`chatcmpl-…`, `cmpl-…`): unique per process, not secret. */
export function newId(prefix: string): string {
  idCounter = (idCounter + 1) % 0x7fffffff;
  return `${prefix}-${Date.now().toString(36)}${idCounter.toString(36).padStart(5, '0')}${Math.floor(Math.random() * 0xffffff).toString(36)}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
