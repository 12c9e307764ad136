// Runner e2e page: loads a GGUF fetched from the dev server into the WebGPU runner on
// navigator.gpu and decodes greedily one token per step through a scattered block table.
import { GREEDY } from '../../../src/engine/types';
import { createGpuContext } from '../../../src/gpu/device';
import { createGpuRunner } from '../../../src/gpu/runner';
import { modelConfigFromGGUF } from '../../../src/model/config';
import { readGGUF } from '../../../src/model/gguf/reader';
import { MemorySource } from '../../../src/model/gguf/source';

interface GreedyResult {
  adapter: string;
  ids: number[];
  msPerStep: number;
  submitsPerStep: number;
}

async function runGreedy(url: string, promptIds: number[], numNew: number): Promise<GreedyResult | { error: string }> {
  try {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const ctx = await createGpuContext({ precision: 'f32' });
    const source = new MemorySource(bytes);
    const gguf = await readGGUF(source);
    const runner = await createGpuRunner({ ctx, gguf, source, config: modelConfigFromGGUF(gguf), kvCacheBytes: 2 << 20, ownsContext: true });
    try {
      // Blocks in a fixed scrambled order (7k mod numBlocks walks every block when gcd = 1).
      const numBlocks = Math.ceil((promptIds.length + numNew) / 16);
      const stride = [7, 11, 13].find((s) => runner.numKvBlocks % s !== 0)!;
      const blockTable = Int32Array.from({ length: numBlocks }, (_, i) => ((i + 1) * stride) % runner.numKvBlocks);
      const ids: number[] = [];
      let tokens = promptIds;
      let pos = 0;
      const t0 = performance.now();
      while (ids.length < numNew) {
        const out = await runner.step({
          tokenIds: Int32Array.from(tokens),
          positions: Int32Array.from(tokens.map((_, i) => pos + i)),
          sequences: [{ queryStart: 0, queryLength: tokens.length, contextLength: pos + tokens.length, blockTable, sample: true, sampling: GREEDY, sampleIndex: ids.length }],
        });
        pos += tokens.length;
        ids.push(out.sampled[0].tokenId);
        tokens = [out.sampled[0].tokenId];
      }
      return { adapter: ctx.adapterName, ids, msPerStep: (performance.now() - t0) / numNew, submitsPerStep: runner.lastStepStats?.submits ?? 0 };
    } finally {
      runner.destroy();
    }
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const w = window as unknown as { runGreedy: typeof runGreedy; runnerReady: boolean };
w.runGreedy = runGreedy;
w.runnerReady = true;
