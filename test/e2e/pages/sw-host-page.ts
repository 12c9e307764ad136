// Service-worker e2e: the page that hosts the engine (a FakeEngine: deterministic, no GPU).
import { hostEngineForServiceWorker } from '../../../src/client/sw-host';
import { FakeEngine } from '../../helpers/fake-engine';
import { registerFromPageUrl } from './sw-register-page';

const engine = new FakeEngine({ tokenDelayMs: 40 });
await registerFromPageUrl();
const host = await hostEngineForServiceWorker(engine);

Object.assign(window, {
  swHost: {
    counts: () => ({ inFlight: engine.inFlight, aborted: engine.abortedCount, received: engine.received.length, announcements: host.announcements }),
    stop: () => host.stop(),
  },
  swReady: true,
});
