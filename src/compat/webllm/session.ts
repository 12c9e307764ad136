// Per-model chat-session state that WebLLM exposes beside its OpenAI API: the message being
// generated (getMessage), cumulative prefill/decode speed (runtimeStatsText), and resetChat.
// WebLLM runs one request at a time, so "the current message" is unambiguous there; with
// requests batched here it is the message of the most recently started request, and a
// resetChat detaches every request already running from it.
import type { CompletionUsage } from './protocol';
import type { WebLLMChunk } from './responses';

export class ChatSession {
  private message = '';
  /** Bumped by every request start and by resetChat; a request writes only while it holds the latest ticket. */
  private ticket = 0;
  private prefillTokens = 0;
  private prefillSeconds = 0;
  private decodeTokens = 0;
  private decodeSeconds = 0;

  getMessage(): string {
    return this.message;
  }

  reset(keepStats: boolean): void {
    this.ticket++;
    this.message = '';
    if (!keepStats) this.prefillTokens = this.prefillSeconds = this.decodeTokens = this.decodeSeconds = 0;
  }

  private record(u: CompletionUsage): void {
    const decodeTokens = Math.max(0, u.completion_tokens - 1);
    this.prefillTokens += u.prompt_tokens;
    this.prefillSeconds += u.extra.time_to_first_token_s;
    this.decodeTokens += decodeTokens;
    this.decodeSeconds += u.extra.time_per_output_token_s * decodeTokens;
  }

  /** WebLLM's wording: `prefill: X tokens/sec, decoding: Y tokens/sec`. */
  statsText(): string {
    const rate = (tokens: number, seconds: number) => (seconds > 0 ? tokens / seconds : 0).toFixed(4);
    return `prefill: ${rate(this.prefillTokens, this.prefillSeconds)} tokens/sec, decoding: ${rate(this.decodeTokens, this.decodeSeconds)} tokens/sec`;
  }

  /**
   * Passes a request's WebLLM chunks through, keeping the session's message (choice `n - 1`,
   * the one WebLLM's sequential choices leave behind) and stats up to date.
   */
  async *track(chunks: AsyncIterable<WebLLMChunk>, n: number): AsyncGenerator<WebLLMChunk> {
    const mine = ++this.ticket;
    this.message = '';
    for await (const chunk of chunks) {
      if (chunk.usage) this.record(chunk.usage);
      for (const choice of chunk.choices) {
        if (choice.index !== n - 1 || choice.finish_reason || this.ticket !== mine) continue;
        this.message += 'delta' in choice ? (choice.delta.content ?? '') : choice.text;
      }
      yield chunk;
    }
  }
}
