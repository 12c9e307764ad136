// Test fixture for the WebLLM compatibility layer: a generated GGUF chat model (real
// tokenizer metadata and chat template) served over HTTP with Range support, so a WebLLM
// `model_list` record can name it by URL, plus a fake runner whose "model" answers every
// prompt with a reply that depends only on the prompt, taking `stepMs` per step. The fake
// runner, GPU and storage reach the layer through MLCEngine's own options (`engineConfig`)
// and the cache helpers' `options`, never through a global.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig, CacheOptions, TabllmMLCEngineConfig } from '../../../src/compat/webllm';
import { Tokenizer } from '../../../src/model/tokenizer';
import { readGGUF } from '../../../src/model/gguf';
import { MemorySource } from '../../../src/model/gguf/source';
import type { ModelRunner, SequenceInput, StepInput, StepOutput } from '../../../src/engine/types';
import type { ModelStorage } from '../../../src/storage';
import { FakeRunner } from '../../../src/testing/fake-runner';
import { makeTestModel } from '../../helpers/test-model';

export const CHAT_TEMPLATE =
  "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
export const MODEL_ID = 'TinyChat-q4-gguf';
const VOCAB = 600;
/** First id of the generated vocabulary's word pieces (after <unk> <s> </s> and 256 byte tokens). */
const FIRST_PIECE = 259;
const EOS = 2;

export interface Fixture {
  url: string;
  appConfig: AppConfig;
  /** `{ appConfig, createRunner, gpu, storage }` for CreateMLCEngine / new MLCEngine. */
  engineConfig: TabllmMLCEngineConfig;
  /** The fixture's storage for hasModelInCache / deleteModelAllInfoInCache. */
  cacheOptions: CacheOptions;
  tokenizer: Tokenizer;
  /** Reply tokens (before EOS) the fake model gives; long enough replies make interrupts observable. */
  replyLength: number;
  setStepMs(ms: number): void;
  setReplyLength(n: number): void;
  /** Steps the runner has run since the last model load. */
  steps(): number;
  /** The step count once it has stopped changing for 100 ms (the engine went idle). */
  settledSteps(): Promise<number>;
  close(): Promise<void>;
}

function hash(ids: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const t of ids) h = Math.imul(h ^ (t + 1), 0x01000193) >>> 0;
  return h;
}

/** Wraps the FakeRunner (which checks every step's KV-cache invariants) with a per-step delay, like a GPU step. */
class SlowRunner implements ModelRunner {
  constructor(
    private readonly inner: FakeRunner,
    private readonly stepMs: () => number,
  ) {}
  get config() {
    return this.inner.config;
  }
  get numKvBlocks() {
    return this.inner.numKvBlocks;
  }
  readonly blockSize = 16 as const;
  async step(input: StepInput): Promise<StepOutput> {
    const ms = this.stepMs();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    return this.inner.step(input);
  }
  destroy(): void {
    this.inner.destroy();
  }
}

/** The fake model's reply (without EOS) to a prompt, as token ids. */
export function replyIds(promptIds: readonly number[], length: number): number[] {
  return Array.from({ length }, (_, k) => FIRST_PIECE + ((hash(promptIds) + 31 * k) % (VOCAB - FIRST_PIECE)));
}

/** `storage`: browser storage stand-in (in-memory stores); without it the GGUF is read over HTTP ranges, as in Node. */
export async function startFixture(options: { storage?: ModelStorage } = {}): Promise<Fixture> {
  const bytes = makeTestModel({ arch: 'llama', vocab: VOCAB, dim: 8, layers: 1, heads: 1, kvHeads: 1, ffn: 8, quant: 'F32', seed: 7, chatTemplate: CHAT_TEMPLATE, contextLength: 1024 });
  const tokenizer = Tokenizer.fromMetadata((await readGGUF(new MemorySource(bytes))).metadata);
  const server: Server = createServer((req, res) => {
    const range = /bytes=(\d+)-(\d+)?/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'content-length': bytes.length });
      res.end(Buffer.from(bytes));
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(bytes.length - 1, range[2] === undefined ? bytes.length - 1 : Number(range[2]));
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 });
    res.end(Buffer.from(bytes.subarray(start, end + 1)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiny-chat.gguf`;

  let stepMs = 0;
  let replyLength = 12;
  let runner: FakeRunner | undefined;
  const appConfig: AppConfig = { model_list: [{ model: url, model_id: MODEL_ID, model_lib: '' }] };
  const engineConfig: TabllmMLCEngineConfig = {
    appConfig,
    createRunner: async ({ config }) => {
      runner = new FakeRunner({
        vocabSize: config.vocabSize,
        contextLength: 1024,
        numKvBlocks: 256,
        nextToken: (context: number[], seq: SequenceInput) => {
          const k = seq.sampleIndex ?? 0;
          if (k >= replyLength) return EOS;
          return replyIds(context.slice(0, context.length - k), k + 1)[k]!;
        },
      });
      return new SlowRunner(runner, () => stepMs);
    },
    gpu: {
      requestAdapter: async () => ({ info: { vendor: 'tabllm-test-vendor' }, limits: { maxStorageBufferBindingSize: 134217728 } }),
    } as unknown as GPU,
    storage: options.storage,
  };

  return {
    url,
    appConfig,
    engineConfig,
    cacheOptions: { storage: options.storage },
    tokenizer,
    get replyLength() {
      return replyLength;
    },
    setStepMs: (ms) => (stepMs = ms),
    setReplyLength: (n) => (replyLength = n),
    steps: () => runner?.numSteps ?? 0,
    settledSteps: async () => {
      for (;;) {
        const before = runner?.numSteps ?? 0;
        await new Promise((r) => setTimeout(r, 100));
        if ((runner?.numSteps ?? 0) === before) return before;
      }
    },
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
