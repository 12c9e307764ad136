// Step statistics for `EngineCore.stats()`: the last step's size and duration, and, over a
// sliding window of recent steps, output tokens per second and the largest step. A reader that
// polls more often than the window sees every step's size in the peak, not a sample of them.

const WINDOW_MS = 2000;
const MAX_RECORDS = 256;

interface StepRecord {
  startMs: number;
  endMs: number;
  numTokens: number;
  numSampled: number;
}

export class StepMeter {
  lastBatchSize = 0;
  lastSequences = 0;
  lastMs = 0;
  numSteps = 0;
  private readonly records: StepRecord[] = [];

  constructor(private readonly now: () => number) {}

  /** `startMs`: when the step was submitted; a step chained behind another counts from that one's end. */
  record(startMs: number, numTokens: number, numSequences: number, numSampled: number): void {
    const endMs = this.now();
    const previousEnd = this.records[this.records.length - 1]?.endMs ?? -Infinity;
    startMs = Math.max(startMs, previousEnd);
    this.lastBatchSize = numTokens;
    this.lastSequences = numSequences;
    this.lastMs = endMs - startMs;
    this.numSteps++;
    this.records.push({ startMs, endMs, numTokens, numSampled });
    if (this.records.length > MAX_RECORDS) this.records.shift();
  }

  /** Output tokens / wall time of the steps that ended in the last 2 s (0 when idle that long). */
  tokensPerSecond(): number {
    let tokens = 0;
    let firstStart = Infinity;
    let lastEnd = -Infinity;
    for (const r of this.recent()) {
      tokens += r.numSampled;
      firstStart = Math.min(firstStart, r.startMs);
      lastEnd = Math.max(lastEnd, r.endMs);
    }
    const spanMs = lastEnd - firstStart;
    return tokens === 0 || !(spanMs > 0) ? 0 : (tokens * 1000) / spanMs;
  }

  /** The most tokens in one step among the steps that ended in the last 2 s (0 when idle that long). */
  peakBatchSize(): number {
    let peak = 0;
    for (const r of this.recent()) peak = Math.max(peak, r.numTokens);
    return peak;
  }

  /** The records of the steps that ended within the window, newest first. */
  private *recent(): Generator<StepRecord> {
    const cutoff = this.now() - WINDOW_MS;
    for (let i = this.records.length - 1; i >= 0 && this.records[i].endMs >= cutoff; i--) yield this.records[i];
  }
}
