// Storage throughput in Chromium (not a test): fetch a random file from a local range server
// without storing it (the network baseline), download it into OPFS, then load it again from OPFS and read every byte through the ByteSource.
// Run: npx tsx test/e2e/storage-bench.ts [MiB=128] [chunkMiB=16]
import { randomBytes } from 'node:crypto';
import { launchChromium, startDevServer } from '../helpers/browser';
import { RangeServer } from './storage-server';

const mib = Number(process.argv[2] ?? 128);
const chunkMiB = Number(process.argv[3] ?? 16);
const files = new RangeServer();
files.files.set('/bench.bin', { bytes: new Uint8Array(randomBytes(mib * 1024 * 1024)) });
await files.start();
const dev = await startDevServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${dev.url}/test/e2e/pages/storage.html`);
  await page.waitForFunction(() => (window as unknown as { storageReady?: boolean }).storageReady === true);
  const result = await page.evaluate(
    async ([url, chunkBytes]) => {
      const { loadModel, deleteCachedModel } = await import('/src/storage/index.ts' as string);
      // Baseline: the same ranged requests, bodies read and dropped (what the network allows here).
      let t = performance.now();
      const total = Number((await fetch(url, { headers: { Range: 'bytes=0-0' } })).headers.get('content-range')!.split('/')[1]);
      for (let at = 0; at < total; at += chunkBytes) {
        const response = await fetch(url, { headers: { Range: `bytes=${at}-${Math.min(at + chunkBytes, total) - 1}` } });
        const reader = response.body!.getReader();
        while (!(await reader.read()).done);
      }
      const networkMs = performance.now() - t;
      t = performance.now();
      const first = await loadModel(url, { chunkBytes });
      const downloadMs = performance.now() - t;
      t = performance.now();
      const again = await loadModel(url);
      const cachedOpenMs = performance.now() - t;
      t = performance.now();
      const step = 4 * 1024 * 1024; // reads the size of a large tensor
      for (let at = 0; at < again.size; at += step) await again.source.read(at, Math.min(step, again.size - at));
      const readMs = performance.now() - t;
      await deleteCachedModel(first.id);
      return { networkMs, downloadMs, cachedOpenMs, readMs, fromCache: again.fromCache };
    },
    [`${files.url}/bench.bin`, chunkMiB * 1024 * 1024] as const,
  );
  const rate = (ms: number) => `${((mib / ms) * 1000).toFixed(0)} MiB/s`;
  console.log(`| file | chunk | network only | download+store (OPFS) | open from cache | read all from cache |`);
  console.log(`| ${mib} MiB | ${chunkMiB} MiB | ${result.networkMs.toFixed(0)} ms (${rate(result.networkMs)}) | ${result.downloadMs.toFixed(0)} ms (${rate(result.downloadMs)}) | ${result.cachedOpenMs.toFixed(0)} ms | ${result.readMs.toFixed(0)} ms (${rate(result.readMs)}) |`);
} finally {
  await browser.close();
  await dev.server.close();
  await files.stop();
}
