// Start-up of a worker that hosts an engine: a worker whose script 404s, is an HTML page
// (a SPA fallback), throws while it starts, or is not a tabllm host never answers, and a
// Worker reports that only through its `error` event. So createWorkerEngine listens to
// `error`/`messageerror` and first pings the host ("alive?") with a short timeout before it
// sends `load` (which may rightly take minutes): every such failure rejects with the coded
// error `worker_failed` naming the script, instead of a promise that never settles.
import { EngineError } from '../engine/errors';

/** How long a new worker may take to fetch and start its script and answer the ping. */
export const WORKER_START_TIMEOUT_MS = 10_000;

/** What a tabllm engine host answers to `ping()` (host.ts). */
export const HOST_PING_ANSWER = 'tabllm-engine-host';

export interface WorkerWatch {
  /** Rejects with `worker_failed` on the first error / messageerror event; never resolves. */
  failed: Promise<never>;
  dispose(): void;
}

function eventText(e: Event): string {
  const m = (e as ErrorEvent).message;
  return typeof m === 'string' && m ? `: ${m}` : ' (the script failed to load or to run: a 404, an HTML page, a syntax error, or a wrong MIME type)';
}

/** Watches `targets` (the Worker, or the SharedWorker and its port) for failure events. */
export function watchWorker(targets: EventTarget[], what: string): WorkerWatch {
  let reject!: (err: EngineError) => void;
  const failed = new Promise<never>((_, r) => (reject = r));
  // Unobserved until raced: keep an early failure from being an unhandled rejection.
  failed.catch(() => {});
  const onError = (e: Event) => {
    e.preventDefault?.();
    reject(new EngineError('worker_failed', `${what} failed${eventText(e)}`));
  };
  const onMessageError = () => reject(new EngineError('worker_failed', `${what} sent a message that could not be deserialized (messageerror)`));
  for (const t of targets) {
    t.addEventListener('error', onError);
    t.addEventListener('messageerror', onMessageError);
  }
  return {
    failed,
    dispose: () => {
      for (const t of targets) {
        t.removeEventListener('error', onError);
        t.removeEventListener('messageerror', onMessageError);
      }
    },
  };
}

/** Resolves once the host answers `ping()`; rejects with `worker_failed` on failure or timeout. */
export async function awaitWorkerStart(ping: () => Promise<unknown>, watch: WorkerWatch, what: string, timeoutMs = WORKER_START_TIMEOUT_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EngineError('worker_failed', `${what} did not answer within ${timeoutMs} ms: is it a tabllm engine worker (tabllm/worker), and does its URL serve that script?`)),
      timeoutMs,
    );
  });
  try {
    const answer = await Promise.race([ping(), watch.failed, timeout]);
    if (answer !== HOST_PING_ANSWER) throw new EngineError('worker_failed', `${what} answered, but is not a tabllm engine host`);
  } finally {
    clearTimeout(timer);
  }
}
