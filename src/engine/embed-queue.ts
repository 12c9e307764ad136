// EmbedQueue: embedding requests (token-id sequences in, pooled vectors out) gathered into
// batches for `ModelRunner.embed`. Requests that arrive while a batch runs wait together and
// go in the next one, so 256 texts — in one request or in 256 — cost a few runner calls, not
// 256:
//
//   embed(req A: a0 a1 a2) ─┐   pending: [a0 a1 a2 b0 c0 c1 …]   batch = the longest FIFO prefix
//   embed(req B: b0)       ─┼─► ───────────────────────────────► whose tokens fit maxBatchTokens
//   embed(req C: c0 c1)    ─┘                                     (always at least one input)
//
// One batch is in flight at a time (the runner owns one device queue). A request resolves
// once all its inputs are embedded; an abort drops its waiting inputs at once and rejects it
// with `aborted`; a failed runner call rejects only the requests with an input in that batch.
// Nothing here touches the KV pool: an embedding holds memory only while its batch runs.

import { EngineError, fromRunnerError } from './errors';
import type { EmbedInput } from './types';

export interface EmbedQueueOptions {
  /** Tokens per runner call; default 4096, raised to the context length so any one input fits. */
  maxBatchTokens?: number;
  /** Inputs per runner call; default 256. */
  maxBatchSequences?: number;
  /** Inputs waiting before `queue_full`; default 16384. */
  maxQueuedSequences?: number;
}

/** The runner's one method the queue calls. */
export interface Embedder {
  embed(input: EmbedInput): Promise<Float32Array[]>;
}

export interface EmbedQueueStats {
  /** Inputs waiting for a batch. */
  waitingSequences: number;
  /** Runner calls made so far. */
  numBatches: number;
  /** Inputs in the last batch. */
  lastBatchSequences: number;
  lastBatchTokens: number;
}

interface Pending {
  vectors: (Float32Array | undefined)[];
  remaining: number;
  settled: boolean;
  resolve: (v: Float32Array[]) => void;
  reject: (e: EngineError) => void;
  detachSignal: () => void;
}

interface Item {
  req: Pending;
  index: number;
  ids: Int32Array;
}

export const DEFAULT_EMBED_BATCH_TOKENS = 4096;
const DEFAULT_EMBED_BATCH_SEQUENCES = 256;
const DEFAULT_EMBED_QUEUE = 16384;

export class EmbedQueue {
  private readonly maxBatchTokens: number;
  private readonly maxBatchSequences: number;
  private readonly maxQueued: number;
  private pending: Item[] = [];
  private running = false;
  private closed: EngineError | null = null;
  private numBatches = 0;
  private lastBatchSequences = 0;
  private lastBatchTokens = 0;

  constructor(
    private readonly runner: Embedder,
    readonly contextLength: number,
    options: EmbedQueueOptions = {},
  ) {
    this.maxBatchTokens = Math.max(options.maxBatchTokens ?? DEFAULT_EMBED_BATCH_TOKENS, contextLength);
    this.maxBatchSequences = Math.max(1, options.maxBatchSequences ?? DEFAULT_EMBED_BATCH_SEQUENCES);
    this.maxQueued = options.maxQueuedSequences ?? DEFAULT_EMBED_QUEUE;
  }

  /**
   * One request's inputs (each 1..contextLength valid token ids: the facade checked them) →
   * one pooled vector per input, in order. Rejects with `aborted`, `queue_full`, or the
   * runner's error.
   */
  embed(sequences: readonly Int32Array[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(this.closed);
    if (signal?.aborted) return Promise.reject(new EngineError('aborted', 'the request was aborted before it started'));
    for (const ids of sequences) {
      // The facade's checks come first; these are the queue's invariants.
      if (ids.length < 1 || ids.length > this.contextLength) throw new Error(`internal: embed input of ${ids.length} tokens (context ${this.contextLength})`);
    }
    if (sequences.length === 0) return Promise.resolve([]);
    if (this.pending.length + sequences.length > this.maxQueued) {
      return Promise.reject(new EngineError('queue_full', `the embedding queue is full (${this.maxQueued} inputs waiting)`));
    }
    return new Promise<Float32Array[]>((resolve, reject) => {
      const req: Pending = { vectors: new Array(sequences.length), remaining: sequences.length, settled: false, resolve, reject, detachSignal: () => {} };
      if (signal) {
        const onAbort = () => this.fail(req, new EngineError('aborted', 'the request was aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        req.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
      sequences.forEach((ids, index) => this.pending.push({ req, index, ids }));
      this.kick();
    });
  }

  stats(): EmbedQueueStats {
    return {
      waitingSequences: this.pending.length,
      numBatches: this.numBatches,
      lastBatchSequences: this.lastBatchSequences,
      lastBatchTokens: this.lastBatchTokens,
    };
  }

  /** True while a batch is in flight or inputs wait. */
  get busy(): boolean {
    return this.running || this.pending.length > 0;
  }

  /** Rejects every waiting request and refuses new ones (`engine_not_loaded`). */
  close(): void {
    this.closed ??= new EngineError('engine_not_loaded', 'the model was unloaded');
    for (const item of this.pending) this.fail(item.req, this.closed);
    this.pending = [];
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Start on a microtask: requests made in the same tick share the first batch.
    queueMicrotask(() => void this.loop());
  }

  /** The longest FIFO prefix of live inputs within the budgets (at least one). */
  private takeBatch(): Item[] {
    this.pending = this.pending.filter((item) => !item.req.settled);
    let tokens = 0;
    let n = 0;
    while (n < this.pending.length && n < this.maxBatchSequences) {
      const next = this.pending[n]!.ids.length;
      if (n > 0 && tokens + next > this.maxBatchTokens) break;
      tokens += next;
      n++;
    }
    return this.pending.splice(0, n);
  }

  private async loop(): Promise<void> {
    try {
      for (let batch = this.takeBatch(); batch.length > 0; batch = this.takeBatch()) {
        let vectors: Float32Array[];
        try {
          vectors = await this.runner.embed({ sequences: batch.map((item) => item.ids) });
          if (vectors.length !== batch.length) throw new EngineError('internal_error', `the runner returned ${vectors.length} vectors for ${batch.length} inputs`);
        } catch (err) {
          const error = toEngineError(err);
          for (const item of batch) this.fail(item.req, error);
          continue;
        } finally {
          this.numBatches++;
          this.lastBatchSequences = batch.length;
          this.lastBatchTokens = batch.reduce((s, item) => s + item.ids.length, 0);
        }
        batch.forEach((item, i) => this.deliver(item, vectors[i]!));
      }
    } finally {
      this.running = false;
    }
  }

  private deliver(item: Item, vector: Float32Array): void {
    const req = item.req;
    if (req.settled) return;
    req.vectors[item.index] = vector;
    if (--req.remaining > 0) return;
    req.settled = true;
    req.detachSignal();
    req.resolve(req.vectors as Float32Array[]);
  }

  private fail(req: Pending, error: EngineError): void {
    if (req.settled) return;
    req.settled = true;
    req.detachSignal();
    req.reject(error);
  }
}

function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const own = fromRunnerError(err);
  if (own) return own;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError('internal_error', `model runner failed to embed: ${message}`);
}
