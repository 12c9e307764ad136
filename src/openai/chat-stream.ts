// Chat completion chunks from a Run's events (OpenAI's stream shape): each choice's first
// chunk carries the role; then content deltas, or — with tools parsed — one delta per parsed
// piece (content, a call's start, its argument text); then the finish reason, and the usage
// chunk when asked for. Token ids and logprobs ride on an event's first chunk.
import type { ChatCompletionChunk } from './engine-api';
import type { Run } from './pipeline';
import { chatLogprobs, toFinishReason, type TokenTextFn } from './shapes';
import type { ToolCallParser } from './tools/call-parser';
import { pieceDelta, toolFinishReason } from './tools/tool-output';

export interface ChatStreamOptions {
  includeUsage: boolean;
  wantLogprobs: boolean;
  wantIds: boolean;
  tokenText: TokenTextFn;
}

/** `parsers[choice]`: that choice's tool-call parser, or null when calls are not parsed. */
export async function* chatStream(run: Run, o: ChatStreamOptions, parsers: readonly (ToolCallParser | null)[]): AsyncGenerator<ChatCompletionChunk> {
  const { meta } = run;
  const { includeUsage, wantLogprobs, wantIds } = o;
  const base = () => ({ id: meta.id, object: 'chat.completion.chunk' as const, created: meta.created, model: meta.model, ...(includeUsage ? { usage: null } : {}) });
  for (let index = 0; index < run.numChoices; index++) {
    yield { ...base(), choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] };
  }
  for await (const { choice, ev } of run.events()) {
    const lp = wantLogprobs && ev.logprobs?.length ? { content: chatLogprobs(ev.logprobs, o.tokenText), refusal: null as null } : null;
    const parser = parsers[choice];
    const finish = toFinishReason(ev.finishReason);
    if (parser) {
      const pieces = [...parser.push(ev.text), ...(ev.finishReason ? parser.end() : [])];
      const deltas = pieces.map(pieceDelta);
      if (deltas.length === 0 && (lp || (wantIds && ev.tokenIds.length))) deltas.push({ content: '' });
      for (const [k, delta] of deltas.entries()) {
        const extra = k === 0 ? { logprobs: lp, ...(wantIds ? { token_ids: ev.tokenIds } : {}) } : { logprobs: null, ...(wantIds ? { token_ids: [] } : {}) };
        yield { ...base(), choices: [{ index: choice, delta, finish_reason: null, ...extra }] };
      }
      if (finish) yield { ...base(), choices: [{ index: choice, delta: {}, logprobs: null, finish_reason: toolFinishReason(finish, parser.callCount) }] };
      continue;
    }
    if (ev.text === '' && !lp && !finish && !(wantIds && ev.tokenIds.length)) continue;
    const delta = ev.text === '' && !lp ? {} : { content: ev.text };
    yield { ...base(), choices: [{ index: choice, delta, logprobs: lp, finish_reason: finish, ...(wantIds ? { token_ids: ev.tokenIds } : {}) }] };
  }
  if (includeUsage) yield { ...base(), choices: [], ...run.totals() };
}
