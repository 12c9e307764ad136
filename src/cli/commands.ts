// The `tabllm run` and `tabllm serve` commands. The engine factory is injected so the
// commands are tested on a fake runner; main.ts passes the WebGPU one.
import { isLoopbackBind } from '../api/origin-policy';
import { createRouter, routePath, type Router } from '../api/router';
import type { Completion, CompletionChunk, Engine } from '../openai/engine-api';
import type { CreateEngineOptions, LoadProgress } from '../create-engine';
import type { RunArgs, ServeArgs } from './args';
import { serveFetchHandler, type RunningServer } from './http-server';
import { PendingEngine } from './pending-engine';

/** What the commands need of an engine: the Engine interface, and a way to free it. */
export type CliEngine = Engine & { destroy(): Promise<void> };

export type EngineFactory = (options: Omit<CreateEngineOptions, 'createRunner'>) => Promise<CliEngine>;

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const MiB = 1024 * 1024;

export function progressLine(p: LoadProgress): string {
  if (p.stage !== 'weights' || p.total <= 0) return `${p.stage}…`;
  const width = 30;
  const filled = Math.round((p.loaded / p.total) * width);
  return `weights [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(p.loaded / MiB).toFixed(1)}/${(p.total / MiB).toFixed(1)} MiB`;
}

export async function runCommand(args: RunArgs, createEngine: EngineFactory, io: CliIO): Promise<number> {
  const engine = await createEngine({ model: args.model, kvCacheBytes: args.kvCacheMiB ? args.kvCacheMiB * MiB : undefined, precision: args.precision });
  try {
    const { tokens: promptIds, max_model_len: contextLength } = await engine.tokenize({ prompt: args.prompt });
    // llama2.c's steps count positions: the prompt after BOS is forced, the rest generated;
    // like llama2.c, steps past the context are cut to it (the engine rejects a max_tokens
    // that does not fit, as vLLM does; --max-tokens is passed as given).
    const steps = Math.min(args.steps!, contextLength);
    const maxTokens = args.maxTokens ?? Math.max(1, Math.min(steps - Math.max(0, promptIds.length - 1), contextLength - promptIds.length));
    const params = {
      prompt: args.prompt,
      max_tokens: maxTokens,
      temperature: args.temperature,
      top_p: args.topP,
      seed: args.seed,
      return_token_ids: true,
    };
    if (args.json) {
      const r = (await engine.completions.create({ ...params, stream: false })) as Completion;
      const c = r.choices[0]!;
      io.stdout(`${JSON.stringify({ text: c.text, token_ids: c.token_ids, finish_reason: c.finish_reason, usage: r.usage, timings: r.timings })}\n`);
      return 0;
    }
    // Like llama2.c: the prompt, then the completion as it streams, then a newline.
    io.stdout(args.prompt);
    const stream = (await engine.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })) as AsyncIterable<CompletionChunk>;
    let usage: Completion['usage'];
    let timings: Completion['timings'];
    for await (const chunk of stream) {
      for (const c of chunk.choices) io.stdout(c.text);
      if (chunk.usage) {
        usage = chunk.usage;
        timings = chunk.timings;
      }
    }
    io.stdout('\n');
    if (usage && timings) {
      const decodeTps = timings.decodeMs > 0 ? ((usage.completion_tokens - 1) / timings.decodeMs) * 1000 : 0;
      io.stderr(`${usage.completion_tokens} tokens, prompt ${timings.promptMs.toFixed(0)} ms, decode ${decodeTps.toFixed(1)} tok/s\n`);
    }
    return 0;
  } finally {
    await engine.destroy();
  }
}

/** `tabllm serve` could not open its port (exit 1, the code in brackets). */
export class ServeError extends Error {
  constructor(
    readonly code: 'port_in_use' | 'port_not_permitted' | 'listen_failed',
    message: string,
  ) {
    super(message);
    this.name = 'ServeError';
  }
}

function listenError(err: unknown, host: string, port: number): ServeError {
  const code = (err as { code?: unknown })?.code;
  if (code === 'EADDRINUSE') return new ServeError('port_in_use', `port ${port} on ${host} is already in use (another tabllm, Ollama or vLLM?): stop it or pick another with --port`);
  if (code === 'EACCES') return new ServeError('port_not_permitted', `not permitted to listen on port ${port} on ${host} (ports below 1024 need privileges): pick another with --port`);
  return new ServeError('listen_failed', `cannot listen on ${host}:${port}: ${(err as Error)?.message ?? String(err)}`);
}

/** The router, except that GET /health answers 503 until the model is loaded (vLLM's readiness check). */
export function healthWhileLoading(engine: PendingEngine, router: Router): Router {
  return async (request) => {
    const response = await router(request);
    if (engine.ready || response.status !== 200 || routePath(new URL(request.url).pathname) !== '/health') return response;
    return new Response('loading the model', { status: 503, headers: response.headers });
  };
}

export interface ServeHooks {
  /** The port is bound; the model is still loading (/health answers 503, the API 503 engine_not_loaded). */
  onListening?: (server: RunningServer) => void;
  /** The model is loaded and served. */
  onReady?: (server: RunningServer) => void;
}

/**
 * Binds the port first — a taken port fails at once, not after a long load — then loads
 * the model while answering 503, then serves it. The router is created once, over a
 * PendingEngine, so its options apply from the first request.
 */
export async function serveCommand(args: ServeArgs, createEngine: EngineFactory, io: CliIO, hooks: ServeHooks = {}): Promise<RunningServer> {
  const loopback = isLoopbackBind(args.host);
  if (!loopback) {
    io.stderr(
      `warning: --host ${args.host} is not a loopback address: every device on the network can reach this server and use the model` +
        `${args.apiKey === undefined ? '; add --api-key KEY to require a key' : ' (with the API key)'}.\n`,
    );
  }
  const sources = args.models ?? [args.model];
  const what = sources.length > 1 ? `the models (${sources.join(', ')})` : `the model (${args.model})`;
  const pending = new PendingEngine(what);
  const router = createRouter(pending, {
    // Bound to loopback, only this machine's Host names are answered (DNS rebinding); bound
    // wider, the server is reached by names and addresses it cannot know.
    access: { allowOrigins: args.allowOrigins, allowHosts: args.allowHosts, checkHost: loopback },
    apiKey: args.apiKey,
    requestTimeoutMs: args.requestTimeoutS === undefined ? undefined : args.requestTimeoutS * 1000,
  });
  const onError = (err: unknown) => io.stderr(`tabllm serve: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  const server = await serveFetchHandler(healthWhileLoading(pending, router), { host: args.host, port: args.port, onError }).catch((err: unknown) => {
    throw listenError(err, args.host, args.port);
  });
  io.stderr(`listening at ${server.url} (503 until the model is loaded); loading ${sources.join(', ')}…\n`);
  hooks.onListening?.(server);
  let lastLine = '';
  let engine: CliEngine;
  try {
    const names = args.names ?? (args.name === undefined ? [] : [args.name]);
    engine = await createEngine({
      // One model: the one-model form (as before); several: each with its --name in order.
      ...(sources.length > 1 ? { models: sources.map((model, i) => ({ model, modelId: names[i] })) } : { model: args.model, modelId: args.name }),
      kvCacheBytes: args.kvCacheMiB ? args.kvCacheMiB * MiB : undefined,
      maxBatchTokens: args.maxBatchTokens,
      precision: args.precision,
      onProgress: (p) => {
        const line = progressLine(p);
        if (line !== lastLine) io.stderr(`\r${line}`);
        lastLine = line;
      },
    });
  } catch (err) {
    await server.close(0);
    throw err;
  }
  pending.resolve(engine);
  const served: string[] = [];
  for (const m of (await engine.models.list()).data) {
    const info = await engine.info(m.id);
    served.push(`'${info.id}' (${info.arch}, ${info.quant}${info.task === 'embed' ? ', embeddings' : ''})`);
  }
  io.stderr(`\nserving ${served.join(', ')} at ${server.url}  — OpenAI: ${server.url}/v1  Ollama: ${server.url}/api\n`);
  hooks.onReady?.(server);
  const close = server.close;
  return {
    ...server,
    close: async (graceMs) => {
      await close(graceMs);
      await engine.destroy();
    },
  };
}
