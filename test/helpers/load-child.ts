// Child process for the bounded-download tests: loads each URL it is given, the way
// `tabllm run` does (createEngine: header, then every tensor read through the source) or
// the way the browser cache does (loadModel into memory storage), and prints one JSON line
// per load: the error code it ended with and the peak RSS growth during that load.
// A child, so that its RSS is this load's alone: node --import tsx test/helpers/load-child.ts '<json>'
import { createEngine } from '../../src/create-engine';
import { MemoryChunkStore } from '../../src/storage/chunk-store';
import { loadModel } from '../../src/storage/load-model';
import { MemoryModelRegistry } from '../../src/storage/registry';

export interface ChildLoad {
  name: string;
  via: 'engine' | 'storage';
  url: string;
  idleTimeoutMs: number;
}

export interface ChildResult {
  name: string;
  /** The error's code, or 'loaded' when every byte was read. */
  code: string;
  message: string;
  /** Highest RSS seen during the load minus the RSS before it. */
  rssGrowthBytes: number;
}

const LOADED = 'loaded';

async function loadOnce(load: ChildLoad): Promise<void> {
  const { idleTimeoutMs } = load;
  if (load.via === 'storage') {
    const storage = { chunks: new MemoryChunkStore(), registry: new MemoryModelRegistry() };
    const model = await loadModel(load.url, { storage, idleTimeoutMs, retries: 0, chunkBytes: 256 * 1024 });
    await model.source.read(0, model.size);
    throw Object.assign(new Error('every byte was read'), { code: LOADED });
  }
  await createEngine({
    model: load.url,
    downloadIdleTimeoutMs: idleTimeoutMs,
    // Reads every tensor the way the GPU runner's upload does, then stops: no GPU needed.
    createRunner: async ({ gguf, source }) => {
      for (const t of gguf.tensors) await source.read(t.offset, t.byteLength);
      throw Object.assign(new Error('every tensor was read'), { code: LOADED });
    },
  });
}

async function main(): Promise<void> {
  const loads = JSON.parse(process.argv[2]!) as ChildLoad[];
  for (const load of loads) {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
    const sampler = setInterval(sample, 2);
    let result: ChildResult;
    try {
      await loadOnce(load);
      result = { name: load.name, code: 'no error', message: '', rssGrowthBytes: 0 };
    } catch (err) {
      const e = err as Error & { code?: string };
      result = { name: load.name, code: e.code ?? e.name, message: e.message, rssGrowthBytes: 0 };
    }
    clearInterval(sampler);
    sample();
    result.rssGrowthBytes = peak - before;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
