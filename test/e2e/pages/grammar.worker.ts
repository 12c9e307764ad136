// Dedicated worker half of the grammar e2e test: XGrammar loaded and run inside a module worker,
// or (engine: true) a constrained request whose grammar worker is nested in this one.
import { walkGrammar } from '../../helpers/grammar-walk';
import { runWithGrammarWorker } from '../../helpers/grammar-worker-run';

onmessage = (e: MessageEvent<{ schema: object; bad?: string; engine?: boolean }>) => {
  (e.data.engine ? runWithGrammarWorker(e.data.schema) : walkGrammar(e.data.schema, e.data.bad)).then(
    (r) => postMessage(r),
    (err: unknown) => postMessage({ error: String(err) }),
  );
};
