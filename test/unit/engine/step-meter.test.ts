import { describe, expect, it } from 'vitest';
import { StepMeter } from '../../../src/engine/step-meter';

describe('StepMeter', () => {
  const meterAt = () => {
    const clock = { ms: 0 };
    return { clock, meter: new StepMeter(() => clock.ms) };
  };

  it('peakBatchSize is the largest step of the last 2 s, so a slow reader misses none', () => {
    const { clock, meter } = meterAt();
    expect(meter.peakBatchSize()).toBe(0);
    clock.ms = 10;
    meter.record(0, 40, 8, 8); // a prefill of 8 rows
    for (let t = 11; t < 20; t++) {
      clock.ms = t;
      meter.record(t - 1, 8, 8, 8);
    }
    clock.ms = 20;
    meter.record(19, 1, 1, 1);
    expect(meter.lastBatchSize).toBe(1); // what a 250 ms sample would have seen
    expect(meter.peakBatchSize()).toBe(40);
    clock.ms = 2010; // the prefill ended exactly 2 s ago: still in the window
    expect(meter.peakBatchSize()).toBe(40);
    clock.ms = 2011;
    expect(meter.peakBatchSize()).toBe(8);
    clock.ms = 2021;
    expect(meter.peakBatchSize()).toBe(0);
  });

  it('tokensPerSecond counts sampled tokens over the window’s wall time', () => {
    const { clock, meter } = meterAt();
    clock.ms = 100;
    meter.record(0, 40, 4, 4);
    clock.ms = 200;
    meter.record(100, 4, 4, 4);
    expect(meter.tokensPerSecond()).toBe(40); // 8 tokens in 200 ms
    expect(meter.numSteps).toBe(2);
    expect(meter.lastMs).toBe(100);
  });
});
