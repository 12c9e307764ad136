// Side by side with a peer: tabllm (WebGPU) and wllama (llama.cpp in WebAssembly, CPU) on
// the same generated GGUF files in the same headless Chromium. Prints markdown tables.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/peer-wllama.ts [--quick]
// Models: generated llama, vocab 32000, dim 768, 12 heads / 4 KV heads, ffn 2048, Q4_0 and
// the same weights (same seed) in Q8_0. With 12 layers that is ~110M parameters; on a
// software adapter (SwiftShader, the only one here) the default is 2 layers so the run ends
// in minutes (TABLLM_PEER_LAYERS overrides); the table says how many layers ran.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../test/helpers/browser';
import { defaultTokenizer, makeTestModel, type TestQuant } from '../test/helpers/test-model';
import { MODEL_ROUTE, startPeerServer } from './lib/peer-server';
import type { PeerCase, PeerResult } from './pages/peer-page';

const quick = process.argv.includes('--quick');
const LAYERS = Number(process.env.TABLLM_PEER_LAYERS ?? 2);
const SHAPE = { arch: 'llama', vocab: 32000, dim: 768, layers: LAYERS, heads: 12, kvHeads: 4, ffn: 2048, seed: 7 } as const;
const QUANTS: TestQuant[] = ['Q4_0', 'Q8_0'];
const CONCURRENT = 16;
// --quick (used by `npm run bench` here, where SwiftShader decodes < 1 token/s): fewer new tokens.
const DECODE_TOKENS = quick ? 8 : 32;
const CONCURRENT_TOKENS = quick ? 4 : 16;
const CHECK_TOKENS = quick ? 8 : 16;

function paramCount(): number {
  const { vocab, dim, layers, heads, kvHeads, ffn } = SHAPE;
  const kvDim = (dim / heads) * kvHeads;
  const perLayer = 2 * dim + dim * dim * 2 + 2 * dim * kvDim + 3 * dim * ffn;
  return 2 * vocab * dim + dim + layers * perLayer;
}

/** Text made of the generated vocabulary's own pieces, so it tokenizes to about `numPieces` tokens. */
function promptText(firstPiece: number, numPieces: number): string {
  const tokens = defaultTokenizer(SHAPE.vocab)['tokenizer.ggml.tokens'] as string[];
  return tokens.slice(firstPiece, firstPiece + numPieces).join('').replaceAll('\u2581', ' ').trimStart();
}

function benchCase(modelUrl: string): PeerCase {
  return {
    modelUrl,
    longPrompt: promptText(1000, 127),
    decodeTokens: DECODE_TOKENS,
    concurrentPrompts: Array.from({ length: CONCURRENT }, (_, i) => promptText(3000 + i * 50, 8)),
    concurrentTokens: CONCURRENT_TOKENS,
    checkPrompt: promptText(500, 12),
    checkTokens: CHECK_TOKENS,
    warmupPrompt: promptText(20000, 4),
  };
}

function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

const modelDir = mkdtempSync(join(tmpdir(), 'tabllm-peer-'));
const { server, url } = await startPeerServer(modelDir);
const browser = await launchChromium();
const rows: { quant: TestQuant; tabllm: PeerResult; wllama: PeerResult }[] = [];
let page: Page | undefined;
let adapter = '';
let isolated = false;
try {
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.text().startsWith('[peer ')) console.error(`[page] ${m.text()}`);
  });
  page.setDefaultTimeout(0);
  await page.goto(`${url}/bench/pages/peer.html`);
  await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, undefined, { timeout: 120_000 });
  adapter = await page.evaluate(() => (window as unknown as { adapterName(): Promise<string> }).adapterName());
  isolated = await page.evaluate(() => (window as unknown as { isolated(): boolean }).isolated());
  for (const quant of QUANTS) {
    const file = `peer-llama-${LAYERS}L-${quant}.gguf`;
    writeFileSync(join(modelDir, file), makeTestModel({ ...SHAPE, quant }));
    const c = benchCase(`${url}${MODEL_ROUTE}${file}`);
    console.error(`[peer] ${quant}: tabllm…`);
    const tabllm = await page.evaluate((arg) => (window as unknown as { runTabllm(c: PeerCase): Promise<PeerResult> }).runTabllm(arg), c);
    console.error(`[peer] ${quant}: wllama…`);
    const wllama = await page.evaluate(
      ([arg, n]) => (window as unknown as { runWllama(c: PeerCase, n: number): Promise<PeerResult> }).runWllama(arg, n),
      [c, CONCURRENT] as const,
    );
    rows.push({ quant, tabllm, wllama });
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(modelDir, { recursive: true, force: true });
}

const chromiumVersion = execFileSync(chromiumPath(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const params = paramCount();
console.log(`Model: generated llama (vocab ${SHAPE.vocab}, dim ${SHAPE.dim}, ${LAYERS}${LAYERS === 12 ? '' : ' of 12'} layers, ${SHAPE.heads} heads / ${SHAPE.kvHeads} KV heads, ffn ${SHAPE.ffn}) = ${(params / 1e6).toFixed(1)}M parameters, random weights (seed ${SHAPE.seed}), the same weights in each quant.`);
console.log(`Browser: ${chromiumVersion}, headless; WebGPU adapter: ${adapter}; cross-origin isolated: ${isolated}. Node ${process.version}. Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (the 2-core machine is shared with other engineers' test runs: absolute numbers are noisy, ratios more so).`);
console.log(`Command: \`node --import tsx --import ./scripts/raw-loader.mjs bench/peer-wllama.ts${quick ? ' --quick' : ''}\`.`);
console.log(`Per engine: load, a warm-up request, then one streamed request with a ~128-token prompt and ${DECODE_TOKENS + 1} new tokens (first-token latency = time to the first streamed token; prefill tok/s = prompt tokens / that latency; decode tok/s over the remaining ${DECODE_TOKENS} tokens), then ${CONCURRENT} concurrent requests (8-token prompts, ${CONCURRENT_TOKENS} new tokens each; aggregate tok/s = all new tokens / wall time), greedy, ignore_eos.\n`);
console.log('| model | engine | backend | prompt tokens | first-token latency (ms) | prefill tok/s | decode tok/s (1 stream) | aggregate decode tok/s (16 concurrent) | load (ms) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  for (const e of [r.tabllm, r.wllama]) {
    console.log(`| ${r.quant} | ${e.engine} | ${e.detail} | ${e.promptTokens} | ${fmt(e.firstTokenMs, 0)} | ${fmt(e.prefillTokS)} | ${fmt(e.decodeTokS, 2)} | ${fmt(e.aggregateTokS, 2)} | ${fmt(e.loadMs, 0)} |`);
  }
}
console.log('\nRatios tabllm / wllama (above 1: tabllm faster; first-token latency: wllama / tabllm):\n');
console.log('| model | prefill | decode (1 stream) | aggregate decode (16) | first-token latency |');
console.log('|---|---|---|---|---|');
for (const { quant, tabllm: t, wllama: w } of rows) {
  console.log(`| ${quant} | ${fmt(t.prefillTokS / w.prefillTokS, 2)} | ${fmt(t.decodeTokS / w.decodeTokS, 2)} | ${fmt(t.aggregateTokS / w.aggregateTokS, 2)} | ${fmt(w.firstTokenMs / t.firstTokenMs, 2)} |`);
}
console.log(`\nGreedy cross-check against llama.cpp (same prompt, ${CHECK_TOKENS} new tokens, temperature 0):\n`);
console.log('| model | prompt tokens tabllm / wllama | tabllm text | wllama text | same |');
console.log('|---|---|---|---|---|');
for (const { quant, tabllm: t, wllama: w } of rows) {
  const same = t.checkText === w.checkText && t.checkPromptTokens === w.checkPromptTokens;
  console.log(`| ${quant} | ${t.checkPromptTokens} / ${w.checkPromptTokens} | ${JSON.stringify(t.checkText)} | ${JSON.stringify(w.checkText)} | ${same ? 'yes' : 'NO'} |`);
}
process.exit(0);
