// Service-worker e2e: the page that hosts the engine (a FakeEngine: deterministic, no GPU).
import { hostEngineForServiceWorker } from '../../../src/client/sw-host';
import { registerTabllmServiceWorker } from '../../../src/client/sw-register';
import { FakeEngine } from '../../helpers/fake-engine';

const engine = new FakeEngine({ tokenDelayMs: 40 });
await registerTabllmServiceWorker({ scriptUrl: '/worker/sw.ts' });
const host = await hostEngineForServiceWorker(engine);

Object.assign(window, {
  swHost: {
    counts: () => ({ inFlight: engine.inFlight, aborted: engine.abortedCount, received: engine.received.length, announcements: host.announcements }),
    stop: () => host.stop(),
  },
  swReady: true,
});
