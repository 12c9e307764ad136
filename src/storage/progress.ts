// Load progress events: `loaded` never goes back within a stage (a retried chunk restarts
// at its first byte, but the bar must not jump backwards), and `bytesPerSecond` is the
// network rate of this load so far. Byte-level updates are throttled (a multi-GB download
// arrives in ~100k body pieces, and each event may cross a worker boundary).

export type StorageStage = 'download' | 'verify' | 'cached';

export interface StorageProgress {
  stage: StorageStage;
  /** Bytes done in this stage (for 'download', stored chunks from an earlier session included). */
  loaded: number;
  total: number;
  /** Network bytes per second during this call (0 when nothing was downloaded). */
  bytesPerSecond: number;
}

export class ProgressReporter {
  private stage: StorageStage | undefined;
  private highest = 0;
  private networkBytes = 0;
  private readonly startedMs = Date.now();
  private lastEmitMs = 0;

  /** Minimum spacing of throttled events, ms. */
  static readonly THROTTLE_MS = 50;

  constructor(private readonly onProgress?: (p: StorageProgress) => void) {}

  addNetworkBytes(bytes: number): void {
    this.networkBytes += bytes;
  }

  /** `throttle`: skip this event if one was sent less than THROTTLE_MS ago (never the stage's first or last). */
  report(stage: StorageStage, loaded: number, total: number, throttle = false): void {
    const now = Date.now();
    const newStage = stage !== this.stage;
    if (newStage) {
      this.stage = stage;
      this.highest = 0;
    }
    this.highest = Math.min(total, Math.max(this.highest, loaded));
    if (throttle && !newStage && this.highest < total && now - this.lastEmitMs < ProgressReporter.THROTTLE_MS) return;
    this.lastEmitMs = now;
    const seconds = (now - this.startedMs) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.round(this.networkBytes / seconds) : 0;
    this.onProgress?.({ stage, loaded: this.highest, total, bytesPerSecond });
  }
}
