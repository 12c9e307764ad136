// The grammar worker (src/grammar/grammar-host.ts): XGrammar's compiles and matchers off the
// engine's thread. One file for both hosts: a browser module Worker (`self`) and a Node
// worker_threads Worker (`parentPort`; the specifier is computed so a browser bundle never
// tries to resolve it).
import { hostGrammar } from '../src/grammar/grammar-host';
import type { GrammarPort } from '../src/grammar/worker-protocol';

type HostPort = Pick<GrammarPort, 'postMessage' | 'onMessage'>;

interface NodeParentPort {
  postMessage(message: unknown, transfer?: readonly Transferable[]): void;
  on(event: 'message', listener: (value: unknown) => void): void;
}

async function nodePort(): Promise<HostPort> {
  const specifier = ['node', 'worker_threads'].join(':');
  const { parentPort } = (await import(/* @vite-ignore */ specifier)) as { parentPort: NodeParentPort | null };
  if (parentPort === null) throw new Error('grammar.worker must run as a worker');
  // worker_threads queues messages until the first listener, so the await above loses none.
  return {
    postMessage: (message, transfer) => parentPort.postMessage(message, transfer),
    onMessage: (handler) => parentPort.on('message', handler),
  };
}

const isBrowserWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
if (isBrowserWorker) {
  // Registered synchronously, before the first message can arrive.
  const scope = globalThis as unknown as Worker;
  hostGrammar({
    postMessage: (message, transfer = []) => scope.postMessage(message, transfer),
    onMessage: (handler) => scope.addEventListener('message', (e: MessageEvent) => handler(e.data)),
  });
} else {
  void nodePort().then((port) => hostGrammar(port));
}
