// The one path every generation takes through the facade, after the prompt is tokens:
// admitted requests (one per prompt) → their events merged in arrival order → per-choice
// events (`choice = prompt * n + index`) with usage and timings tallied on the way. Chat is
// the one-prompt case; completions may carry several prompts. LocalEngine only shapes.
import type { EngineEvent } from '../engine/core';
import { EngineError } from '../engine/errors';
import type { CompletionUsage } from './engine-api';
import { sumUsage, toTimings, toUsage } from './shapes';

export interface RunMeta {
  id: string;
  created: number;
  model: string;
  startMs: number;
}

/** One call's admitted requests and the tally of what they report. */
export class Run {
  private readonly usages: (CompletionUsage | undefined)[];
  private timings: EngineEvent['timings'];

  constructor(
    private readonly streams: AsyncIterable<EngineEvent>[],
    private readonly promptTokens: number[],
    /** Choices per prompt. */
    readonly n: number,
    readonly meta: RunMeta,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.usages = Array(streams.length).fill(undefined);
  }

  get numChoices(): number {
    return this.streams.length * this.n;
  }

  /** Every event with its choice index; an aborted request fails the iteration with `aborted`. */
  async *events(): AsyncGenerator<{ choice: number; ev: EngineEvent }> {
    for await (const { source, ev } of mergeEvents(this.streams)) {
      if (ev.finishReason === 'abort') throw new EngineError('aborted', 'The request was aborted.');
      if (ev.usage) {
        this.usages[source] = toUsage(ev.usage);
        this.timings = ev.timings;
      }
      yield { choice: source * this.n + ev.index, ev };
    }
  }

  /** Usage summed over the prompts (a prompt that reported none counts its prompt tokens), and timings. */
  totals(): { usage: CompletionUsage; timings: ReturnType<typeof toTimings> } {
    const usage = sumUsage(this.usages.map((u, k) => u ?? toUsage({ promptTokens: this.promptTokens[k]!, completionTokens: 0, cachedTokens: 0 })));
    return { usage, timings: toTimings(this.timings, usage.completion_tokens, this.now() - this.meta.startMs) };
  }
}

/** Cancels admitted requests (an admission error of a later prompt rejects the whole call). */
export function cancelAll(streams: AsyncIterable<EngineEvent>[]): void {
  for (const s of streams) void s[Symbol.asyncIterator]().return?.();
}

/** Interleaves several event streams in arrival order, tagging each event with its source. */
export async function* mergeEvents(streams: AsyncIterable<EngineEvent>[]): AsyncGenerator<{ source: number; ev: EngineEvent }> {
  const iterators = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ source: number; r: IteratorResult<EngineEvent> }>>();
  const pull = (source: number) => pending.set(source, iterators[source]!.next().then((r) => ({ source, r })));
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { source, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(source);
        continue;
      }
      pull(source);
      yield { source, ev: r.value };
    }
  } finally {
    // An early exit (break, abort, error) cancels every stream still running.
    for (const source of pending.keys()) void iterators[source]!.return?.();
  }
}
