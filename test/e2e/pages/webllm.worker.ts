// worker.ts exactly as WebLLM's docs write it, with the import switched to tabllm/webllm.
import { WebWorkerMLCEngineHandler } from '../../../src/compat/webllm';

const handler = new WebWorkerMLCEngineHandler();
self.onmessage = (msg: MessageEvent) => {
  handler.onmessage(msg);
};
