// WebLLM's service-worker engine names, present so apps that import them still compile, and
// failing with a named UnsupportedFeatureError that says what to use instead. tabllm does not
// run a chat engine inside a service worker: a service worker is stopped by the browser when
// idle (WebLLM keeps it alive with heartbeats and reloads the model when it is not), which
// would drop batched requests and the KV cache. Use CreateWebWorkerMLCEngine (a dedicated
// worker), or tabllm's own service worker (`tabllm/sw`), which answers the OpenAI/Ollama HTTP
// APIs from a page-held engine.
import { UnsupportedFeatureError } from './errors';
import type { ChatOptions, MLCEngineConfig } from './types';

const INSTEAD =
  'use CreateWebWorkerMLCEngine with a dedicated Worker running WebWorkerMLCEngineHandler (same API), ' +
  "or tabllm's service worker ('tabllm/sw') to serve the OpenAI/Ollama HTTP APIs.";

function unsupported(name: string): UnsupportedFeatureError {
  return new UnsupportedFeatureError(name, `tabllm does not run the engine in a service worker; ${INSTEAD}`);
}

/** Throws UnsupportedFeatureError: see the file header. */
export class ServiceWorkerMLCEngineHandler {
  constructor() {
    throw unsupported('ServiceWorkerMLCEngineHandler');
  }
}

/** Throws UnsupportedFeatureError: see the file header. */
export class ServiceWorkerMLCEngine {
  constructor(_engineConfig?: MLCEngineConfig, _keepAliveMs?: number) {
    throw unsupported('ServiceWorkerMLCEngine');
  }
}

/** Rejects with UnsupportedFeatureError: see the file header. */
export async function CreateServiceWorkerMLCEngine(
  _modelId: string | string[], _engineConfig?: MLCEngineConfig, _chatOpts?: ChatOptions | ChatOptions[], _keepAliveMs?: number,
): Promise<never> {
  throw unsupported('CreateServiceWorkerMLCEngine');
}
