// What the demo's engine worker sends while a model loads: storage stages from
// `loadModel` (download / verify / cached), then the engine's (header / weights / ready).
import type { LoadProgress } from '../src/create-engine';
import type { StorageProgress } from '../src/storage';
import type { WorkerEngineOptions } from '../src/client/worker-engine';

export type DemoProgress = StorageProgress | LoadProgress;

/** Options the page posts to demo/engine.worker.ts: a URL / `org/repo:file`, or a local File. */
export interface DemoLoadOptions extends Omit<WorkerEngineOptions, 'model'> {
  model: string | File;
}

const STAGE_LABEL: Record<DemoProgress['stage'], string> = {
  download: 'Downloading',
  verify: 'Verifying stored chunks',
  cached: 'In browser storage',
  header: 'Reading GGUF header',
  weights: 'Uploading weights to the GPU',
  ready: 'Ready',
};

export function stageLabel(stage: DemoProgress['stage']): string {
  return STAGE_LABEL[stage] ?? stage;
}

/** Fraction 0..1 of the whole load: storage is the first half, GPU upload the second. */
export function overallFraction(p: DemoProgress): number {
  const f = p.total > 0 ? Math.min(1, p.loaded / p.total) : 0;
  switch (p.stage) {
    case 'download':
    case 'verify':
      return 0.5 * f;
    case 'cached':
      return 0.5;
    case 'header':
      return 0.5;
    case 'weights':
      return 0.5 + 0.5 * f;
    case 'ready':
      return 1;
  }
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}
