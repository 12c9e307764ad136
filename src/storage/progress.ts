// Load progress events: `loaded` never goes back within a stage (a retried chunk restarts
// at its first byte, but the bar must not jump backwards), and `bytesPerSecond` is the
// network rate of this load so far.

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

  constructor(private readonly onProgress?: (p: StorageProgress) => void) {}

  addNetworkBytes(bytes: number): void {
    this.networkBytes += bytes;
  }

  report(stage: StorageStage, loaded: number, total: number): void {
    if (stage !== this.stage) {
      this.stage = stage;
      this.highest = 0;
    }
    this.highest = Math.min(total, Math.max(this.highest, loaded));
    const seconds = (Date.now() - this.startedMs) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.round(this.networkBytes / seconds) : 0;
    this.onProgress?.({ stage, loaded: this.highest, total, bytesPerSecond });
  }
}
