// The Metrics tab: `engine.stats()` every 250 ms, drawn as live charts of tokens/s,
// batch size, KV blocks in use and the prefix-cache hit rate.
import type { EngineStats } from '../src/openai/engine-api';
import { drawChart, type Series } from './chart';
import type { DemoSession } from './session';
import { errorText } from './ui';

export const POLL_MS = 250;
/** 60 s of history. */
const CAPACITY = 240;

interface Panel {
  title: string;
  series: Series[];
  yMax?: () => number | undefined;
  format?: (v: number) => string;
  now: (s: EngineStats) => string;
  canvas?: HTMLCanvasElement;
  value?: HTMLElement;
  card?: HTMLElement;
}

export function mountMetrics(root: HTMLElement, session: DemoSession): void {
  root.innerHTML = `<div class="metrics-grid"></div><p class="muted small metrics-status">Waiting for a model…</p>`;
  const grid = root.querySelector('.metrics-grid')!;
  const status = root.querySelector<HTMLElement>('.metrics-status')!;
  const panels: Panel[] = [
    { title: 'Tokens / s', series: [{ label: 'output tokens/s', color: '#2f7de1', values: [] }], now: (s) => s.tokensPerSecond.toFixed(1) },
    {
      title: 'Batch',
      series: [
        // The largest step of the last 2 s: a 250 ms sample of the last step alone misses the
        // short steps of a fast batch.
        { label: 'most tokens in a step', color: '#d9822b', values: [] },
        { label: 'running requests', color: '#0f9960', values: [] },
      ],
      now: (s) => `${s.lastStepBatchSize} tokens · ${s.running} running · ${s.waiting} waiting · ${s.lastStepMs.toFixed(1)} ms/step`,
    },
    {
      title: 'KV cache blocks',
      series: [{ label: 'blocks used', color: '#8f398f', values: [] }],
      format: (v) => v.toFixed(0),
      // Scaled to the data, not the pool: a small model's pool has thousands of blocks.
      now: (s) => `${s.kvBlocksUsed} / ${s.kvBlocksTotal} used`,
    },
    {
      title: 'Prefix-cache hit rate',
      series: [{ label: 'hit rate', color: '#c23030', values: [] }],
      yMax: () => 1,
      format: (v) => `${Math.round(v * 100)}%`,
      now: (s) => `${(s.prefixCacheHitRate * 100).toFixed(1)}%`,
    },
  ];
  for (const p of panels) {
    p.canvas = document.createElement('canvas');
    p.canvas.className = 'chart';
    p.value = document.createElement('div');
    p.value.className = 'metric-now';
    const legend = p.series.map((s) => `<span class="legend" style="--c:${s.color}">${s.label}</span>`).join(' ');
    const card = document.createElement('div');
    card.className = 'card metric';
    card.innerHTML = `<h3>${p.title}</h3><div class="small">${legend}</div>`;
    card.append(p.value, p.canvas);
    p.card = card;
    grid.append(card);
  }

  const push = (series: Series, v: number) => {
    series.values.push(Number.isFinite(v) ? v : 0);
    if (series.values.length > CAPACITY) series.values.shift();
  };
  const redraw = () => {
    if (root.hidden) return;
    for (const p of panels) drawChart(p.canvas!, p.series, CAPACITY, { yMax: p.yMax?.(), format: p.format });
  };

  let inFlight = false;
  setInterval(async () => {
    const engine = session.engine;
    if (!engine || inFlight) return;
    inFlight = true;
    try {
      const s = await engine.stats();
      push(panels[0]!.series[0]!, s.tokensPerSecond);
      push(panels[1]!.series[0]!, s.peakStepBatchSize ?? s.lastStepBatchSize);
      push(panels[1]!.series[1]!, s.running);
      push(panels[2]!.series[0]!, s.kvBlocksUsed);
      push(panels[3]!.series[0]!, s.prefixCacheHitRate);
      for (const p of panels) {
        p.value!.textContent = p.now(s);
        // The first series' peak over the window (read by the e2e test, shown on hover).
        p.card!.dataset.peak = String(Math.max(...p.series[0]!.values));
        p.card!.title = `peak in the last 60 s: ${p.card!.dataset.peak}`;
      }
      status.textContent = `Polling engine.stats() every ${POLL_MS} ms · ${session.info?.id ?? ''}`;
      redraw();
    } catch (err) {
      // A model being replaced answers engine_not_loaded for a moment; show, keep polling.
      status.textContent = `stats: ${errorText(err)}`;
    } finally {
      inFlight = false;
    }
  }, POLL_MS);
  session.listen({ onLoaded: () => panels.forEach((p) => p.series.forEach((s) => (s.values.length = 0))) });
  new MutationObserver(redraw).observe(root, { attributes: true, attributeFilter: ['hidden'] });
  window.addEventListener('resize', redraw);
}
