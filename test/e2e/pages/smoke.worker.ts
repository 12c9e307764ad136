// Dedicated worker half of the browser smoke test.
import { smokeOnGpu } from '../../helpers/smoke-kernel';

smokeOnGpu(navigator.gpu).then(
  (r) => postMessage(r),
  (e: unknown) => postMessage({ error: String(e) }),
);
