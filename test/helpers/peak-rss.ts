// The process's peak RSS as the kernel counts it (Linux VmHWM), for the load-memory bench and
// the full-size test (#18). A 10 ms sampler cannot see inside a synchronous call (a pipeline
// compiled on the calling thread, gpu/context.ts), so the peak is read from the kernel.
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Resets the peak to the RSS now (/proc/self/clear_refs) and returns a reader of it in
 * bytes; undefined where /proc lacks either (not Linux, or not allowed): callers then
 * sample RSS themselves.
 */
export function resetPeakRss(): (() => number) | undefined {
  const read = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
}
