// Dedicated worker half of the grammar e2e test: XGrammar loaded and run inside a module worker.
import { walkGrammar } from '../../helpers/grammar-walk';

onmessage = (e: MessageEvent<{ schema: object; bad?: string }>) => {
  walkGrammar(e.data.schema, e.data.bad).then(
    (r) => postMessage(r),
    (err: unknown) => postMessage({ error: String(err) }),
  );
};
