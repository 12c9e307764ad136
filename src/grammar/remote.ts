// The engine's side of a grammar worker (grammar-host.ts): a GrammarService whose compiles and
// matchers live in the worker, so the engine thread never runs XGrammar.
//
//   compile(c)  ─► checkConstraint here (a 400 before anything is sent) ─► worker compiles
//   matcher     ─► accept(t) records t and asks for the next mask at once (prefetch): every
//                  row sampled in a step is sent in ONE `masks` message (a microtask batch)
//   schedule    ─► a row whose mask was asked for while a compile was in the worker, and has
//                  not come back, sits out the step (maskReady false), so a long compile
//                  delays only constrained rows. A mask asked for while no compile was in
//                  flight is answered before any later compile starts (messages are handled in
//                  order), so the step waits for it, as it would for an in-thread mask: a row
//                  must not miss every other step only because the answer is a message away.
//
// The worker ending (crash, out of memory) fails what was in flight with
// `grammar_worker_failed`, and the matchers it held; the next compile starts a fresh worker.
// So does a worker that hangs: one that has requests outstanding and sends nothing for
// `silenceTimeoutMs` (default 60 s; a compile that long is a hang too) is terminated, so a
// step waiting for its masks cannot stall the engine for ever.
// A worker that never starts (its script not served, a CSP without worker-src, no Worker at
// all) hands every compile to the `fallback` service (in-thread) from then on, when there is one.
import { MAX_PENDING_COMPILES, type CompiledConstraint, type GrammarService, type TokenMatcher } from './backend';
import { checkConstraint, constraintParam, type OutputConstraint } from './constraint';
import { GrammarError } from './errors';
import type { WireGrammarVocab } from './vocab';
import { fromWireError, type FromGrammarWorker, type GrammarPort, type MaskResult, type MaskRow, type ToGrammarWorker } from './worker-protocol';

export interface RemoteGrammarOptions {
  /** Compiles sent and unanswered before `grammar_queue_full` (default MAX_PENDING_COMPILES). */
  maxPendingCompiles?: number;
  /** Where compiles go once a worker failed to start (none: they fail with `grammar_unavailable` / `grammar_worker_failed`). */
  fallback?: () => GrammarService;
  /** A worker with requests outstanding that answers nothing for this long is terminated (default GRAMMAR_WORKER_SILENCE_MS). */
  silenceTimeoutMs?: number;
}

/** How long a grammar worker with requests outstanding may go without answering any. */
export const GRAMMAR_WORKER_SILENCE_MS = 60_000;

type Request = ToGrammarWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;
type Reply = Extract<FromGrammarWorker, { ok: true }>;

/** One started grammar worker and its unanswered requests. */
export interface GrammarWorkerHandle {
  port: GrammarPort;
  pending: Map<number, { resolve(reply: Reply): void; reject(err: Error): void }>;
  alive: boolean;
  /** It answered `init`: its script loaded and runs. */
  started: boolean;
  /** compile and create requests unanswered (either may run a compile, holding the worker). */
  numCompiling: number;
  /** When it last answered, or was sent a request while it owed none (performance.now ms). */
  lastProgressMs: number;
  /** Armed while requests are outstanding: terminates a worker silent for silenceTimeoutMs. */
  watchdog?: ReturnType<typeof setTimeout>;
}

export class RemoteGrammarService implements GrammarService {
  private worker: GrammarWorkerHandle | undefined;
  private vocab: WireGrammarVocab | undefined;
  private nextId = 1;
  private nextMatcherId = 1;
  private numPendingCompiles = 0;
  private readonly maxPendingCompiles: number;
  private readonly silenceTimeoutMs: number;
  private readonly makeFallback: (() => GrammarService) | undefined;
  /** Set once a worker failed to start: every compile goes here. */
  fallback: GrammarService | undefined;
  private batch: Array<{ row: MaskRow; matcher: RemoteMatcher; done(r: MaskResult | Error): void }> | null = null;
  /** Workers started so far (a failed one is replaced on the next compile). */
  numWorkers = 0;

  constructor(
    private readonly vocabSource: () => WireGrammarVocab,
    /** Starts a grammar worker (worker-port.ts); throws where none can be created. */
    private readonly startWorker: () => GrammarPort,
    options: RemoteGrammarOptions = {},
  ) {
    this.maxPendingCompiles = Math.max(1, options.maxPendingCompiles ?? MAX_PENDING_COMPILES);
    this.makeFallback = options.fallback;
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? GRAMMAR_WORKER_SILENCE_MS;
  }

  compile(constraint: OutputConstraint): Promise<CompiledConstraint> {
    if (this.fallback) return this.fallback.compile(constraint);
    const key = checkConstraint(constraint);
    if (this.numPendingCompiles >= this.maxPendingCompiles) {
      throw new GrammarError('grammar_queue_full', `${this.numPendingCompiles} grammars are being compiled already; try again later`, constraintParam(constraint));
    }
    this.numPendingCompiles++;
    const compiled = this.request({ type: 'compile', constraint }).then(
      (): CompiledConstraint => ({ key, createMatcher: (extra: readonly number[] = []) => this.createMatcher(constraint, extra) }),
      (err: unknown) => {
        if (this.fallback) return this.fallback.compile(constraint);
        throw err;
      },
    );
    void compiled.then(() => this.numPendingCompiles--, () => this.numPendingCompiles--);
    return compiled;
  }

  close(): void {
    this.fallback?.close?.();
    this.worker?.port.terminate();
    if (this.worker) this.fail(this.worker, 'the grammar service was closed');
  }

  private async createMatcher(constraint: OutputConstraint, extra: readonly number[]): Promise<TokenMatcher> {
    const matcherId = this.nextMatcherId++;
    await this.request({ type: 'create', matcherId, constraint, extraStopTokenIds: [...extra] });
    const stops = new Set([...this.vocab!.stopTokenIds, ...extra]);
    return new RemoteMatcher(this, matcherId, this.worker!, stops);
  }

  /** @internal RemoteMatcher.fork */
  async forkMatcher(from: RemoteMatcher): Promise<number> {
    const matcherId = this.nextMatcherId++;
    await this.request({ type: 'fork', matcherId, fromId: from.matcherId }, from.worker);
    return matcherId;
  }

  /** @internal Queues a row for the next `masks` message (one per microtask: one per step). */
  requestMask(matcher: RemoteMatcher, accept: number[]): Promise<MaskResult | Error> {
    return new Promise((done) => {
      if (this.batch === null) {
        this.batch = [];
        queueMicrotask(() => this.flushMasks());
      }
      this.batch.push({ row: { matcherId: matcher.matcherId, accept }, matcher, done });
    });
  }

  /** @internal */
  disposeMatcher(matcher: RemoteMatcher): void {
    if (matcher.worker.alive) matcher.worker.port.postMessage({ type: 'dispose', matcherIds: [matcher.matcherId] });
  }

  private flushMasks(): void {
    const batch = (this.batch ?? []).filter((b) => !b.matcher.disposed);
    this.batch = null;
    const worker = batch[0]?.matcher.worker;
    if (worker === undefined) return;
    // Every live matcher belongs to the current worker or to a dead one (which fails its rows).
    const rows = batch.filter((b) => b.matcher.worker === worker);
    for (const b of batch) if (b.matcher.worker !== worker) b.done(workerFailed('the grammar worker that held this matcher ended'));
    this.request({ type: 'masks', rows: rows.map((b) => b.row) }, worker).then(
      (reply) => rows.forEach((b, i) => b.done(reply.masks?.[i] ?? new Error('the grammar worker answered no mask'))),
      (err: Error) => rows.forEach((b) => b.done(err)),
    );
  }

  private request(body: Request, to?: GrammarWorkerHandle): Promise<Reply> {
    let worker: GrammarWorkerHandle;
    try {
      worker = to ?? this.ensureWorker();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    const compiles = body.type === 'compile' || body.type === 'create';
    const reply = new Promise<Reply>((resolve, reject) => {
      if (!worker.alive) return reject(workerFailed('the grammar worker ended'));
      if (worker.pending.size === 0) worker.lastProgressMs = performance.now();
      worker.pending.set(id, { resolve, reject });
      this.armWatchdog(worker);
      worker.port.postMessage({ ...body, id } as ToGrammarWorker);
    });
    if (compiles) {
      worker.numCompiling++;
      void reply.then(() => worker.numCompiling--, () => worker.numCompiling--);
    }
    return reply;
  }

  private ensureWorker(): GrammarWorkerHandle {
    if (this.worker?.alive) return this.worker;
    let port: GrammarPort;
    try {
      port = this.startWorker();
    } catch (err) {
      this.fallback ??= this.makeFallback?.();
      throw new GrammarError('grammar_unavailable', `the grammar worker could not be started: ${(err as Error).message}`);
    }
    const worker: GrammarWorkerHandle = { port, pending: new Map(), alive: true, started: false, numCompiling: 0, lastProgressMs: performance.now() };
    this.worker = worker;
    this.numWorkers++;
    port.onMessage((data) => {
      const msg = data as FromGrammarWorker;
      const p = worker.pending.get(msg.id);
      if (p === undefined) return;
      worker.pending.delete(msg.id);
      worker.lastProgressMs = performance.now();
      if (worker.pending.size === 0) this.disarmWatchdog(worker);
      if (msg.ok) p.resolve(msg);
      else p.reject(fromWireError(msg.error));
    });
    port.onExit((reason) => this.fail(worker, reason));
    this.vocab ??= this.vocabSource();
    // The reply is not awaited: messages are handled in order, so every later request sees it.
    void this.request({ type: 'init', vocab: this.vocab }, worker).then(() => (worker.started = true), () => {});
    return worker;
  }

  /** Checks, silenceTimeoutMs after its last progress, that a worker owing answers has sent one. */
  private armWatchdog(worker: GrammarWorkerHandle): void {
    if (worker.watchdog !== undefined) return;
    const check = () => {
      worker.watchdog = undefined;
      if (!worker.alive || worker.pending.size === 0) return;
      const silentMs = performance.now() - worker.lastProgressMs;
      if (silentMs < this.silenceTimeoutMs) {
        worker.watchdog = setTimeout(check, this.silenceTimeoutMs - silentMs);
        return;
      }
      worker.port.terminate();
      this.fail(worker, `it answered nothing for ${(silentMs / 1000).toFixed(1)} s with ${worker.pending.size} request(s) outstanding, and was terminated`);
    };
    worker.watchdog = setTimeout(check, this.silenceTimeoutMs);
  }

  private disarmWatchdog(worker: GrammarWorkerHandle): void {
    if (worker.watchdog !== undefined) clearTimeout(worker.watchdog);
    worker.watchdog = undefined;
  }

  private fail(worker: GrammarWorkerHandle, reason: string): void {
    if (!worker.alive) return;
    worker.alive = false;
    this.disarmWatchdog(worker);
    if (!worker.started) this.fallback ??= this.makeFallback?.();
    const err = workerFailed(`the grammar worker ended: ${reason}`);
    for (const p of worker.pending.values()) p.reject(err);
    worker.pending.clear();
    if (this.worker === worker) this.worker = undefined;
  }
}

function workerFailed(message: string): GrammarError {
  return new GrammarError('grammar_worker_failed', message);
}

/**
 * A sequence's matcher in the grammar worker. Its next mask is asked for as soon as the last
 * token is accepted, so it is usually back before the next step is scheduled.
 */
export class RemoteMatcher implements TokenMatcher {
  private mask: Uint32Array | null = null;
  private inflight: Promise<void> | null = null;
  /** Accepted here, not yet sent (they go with the next mask request). */
  private unsent: number[] = [];
  private terminated = false;
  /** The pending mask was asked for while a compile was in the worker: it may take long. */
  private behindCompile = false;
  failure: Error | undefined;
  disposed = false;

  constructor(
    private readonly service: RemoteGrammarService,
    readonly matcherId: number,
    readonly worker: GrammarWorkerHandle,
    private readonly stopTokenIds: ReadonlySet<number>,
  ) {
    this.prefetch();
  }

  get maskReady(): boolean {
    if (this.inflight !== null && !this.behindCompile) return true; // answered before any compile: worth the wait
    return this.mask !== null || this.failure !== undefined || this.terminated || this.disposed;
  }

  get isTerminated(): boolean {
    return this.terminated;
  }

  whenMaskReady(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  async nextMask(into?: Uint32Array): Promise<Uint32Array> {
    if (this.disposed) throw new Error('grammar matcher used after dispose');
    if (this.mask === null && this.inflight === null) this.prefetch();
    await this.inflight;
    if (this.failure !== undefined) throw this.failure;
    if (into === undefined) return this.mask!;
    if (into.length !== this.mask!.length) throw new RangeError(`a token mask has ${this.mask!.length} words, not ${into.length}`);
    into.set(this.mask!);
    return into;
  }

  accept(tokenId: number): boolean {
    if (this.terminated || this.disposed) return false;
    // The mask this token was sampled under already says whether the grammar takes it.
    if (this.mask !== null && !(this.mask[tokenId >>> 5] & (1 << (tokenId & 31)))) return false;
    this.mask = null;
    this.unsent.push(tokenId);
    // With the stop ids the worker's matcher has, a stop token is the grammar's end.
    if (this.stopTokenIds.has(tokenId)) this.terminated = true;
    else this.prefetch();
    return true;
  }

  async fork(): Promise<TokenMatcher> {
    await this.inflight;
    if (this.failure !== undefined) throw this.failure;
    if (this.unsent.length > 0) throw new Error('grammar fork: a terminated matcher cannot be forked');
    const matcherId = await this.service.forkMatcher(this);
    return new RemoteMatcher(this.service, matcherId, this.worker, this.stopTokenIds);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.mask = null;
    this.service.disposeMatcher(this);
  }

  private prefetch(): void {
    const accept = this.unsent.splice(0);
    this.behindCompile = this.worker.numCompiling > 0;
    const settled = this.service.requestMask(this, accept).then((r) => {
      if (this.inflight === settled) this.inflight = null;
      if (r instanceof Uint32Array) this.mask = this.disposed ? null : r;
      else this.failure = r instanceof Error ? r : fromWireError(r);
    });
    this.inflight = settled;
  }
}
