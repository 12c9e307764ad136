// The two ways a client reaches tabllm's router in the real-client tests: the fetch shim in
// the same process (`createOpenAIFetch(engine)` as the client's `fetch`), and a running
// `tabllm serve`-style HTTP server (`serveFetchHandler(createRouter(engine))` on 127.0.0.1,
// port 0) reached with the global fetch.
import { createRouter, type RouterOptions } from '../../src/api/router';
import { serveFetchHandler } from '../../src/cli/http-server';
import type { Engine } from '../../src/openai/engine-api';
import { createOpenAIFetch, type FetchLike } from '../../src/shim/fetch';

export interface OpenTransport {
  /** The OpenAI base URL (`…/v1`). */
  baseURL: string;
  fetch: FetchLike;
  close(): Promise<void>;
}

export interface Transport {
  name: string;
  open(engine: Engine, options?: RouterOptions): Promise<OpenTransport>;
}

export const TRANSPORTS: Transport[] = [
  {
    name: 'fetch shim',
    open: async (engine, options) => ({ baseURL: 'http://localhost:8000/v1', fetch: createOpenAIFetch(engine, options), close: async () => undefined }),
  },
  {
    name: 'tabllm serve',
    open: async (engine, options) => {
      const server = await serveFetchHandler(createRouter(engine, options), { host: '127.0.0.1', port: 0 });
      return { baseURL: `${server.url}/v1`, fetch: globalThis.fetch.bind(globalThis), close: () => server.close(0) };
    },
  },
];
