// The RoPE turn table (CPU side of rope.wgsl): each pair's frequency as a 64-bit
// fixed-point fraction of a turn, exact to float64's precision.
import { describe, expect, it } from 'vitest';
import { KernelArgError } from '../../../src/kernels/encoder';
import { ropeTurnTable } from '../../../src/kernels/rope';

describe('ropeTurnTable', () => {
  it('holds frac(theta^(-2i/d) / 2pi) as (lo, hi) u32 words', () => {
    for (const [theta, d] of [[10000, 8], [1e6, 128], [500000, 64]] as const) {
      const t = ropeTurnTable(theta, d);
      expect(t.length).toBe(d);
      for (let i = 0; i < d / 2; i++) {
        const turns = Math.pow(theta, (-2 * i) / d) / (2 * Math.PI);
        const got = (t[2 * i + 1] * 2 ** 32 + t[2 * i]) / 2 ** 64;
        expect(Math.abs(got - (turns - Math.floor(turns)))).toBeLessThan(2 ** -50);
      }
    }
  });
  it('gives the turn count mod 1 at a large position exactly as u32 arithmetic would', () => {
    // pos * g mod 2^64, top 32 bits, must equal frac(pos * turns) to ~2^-32.
    const t = ropeTurnTable(10000, 64);
    const g = (BigInt(t[2 * 5 + 1]) << 32n) | BigInt(t[2 * 5]);
    const pos = 1_000_003n;
    const topBits = Number(((pos * g) & ((1n << 64n) - 1n)) >> 32n) / 2 ** 32;
    const turns = (1_000_003 * Math.pow(10000, -10 / 64)) / (2 * Math.PI);
    expect(Math.abs(topBits - (turns - Math.floor(turns)))).toBeLessThan(1e-8);
  });
  it('rejects odd or empty rotary dims and bad theta with a coded error', () => {
    expect(() => ropeTurnTable(10000, 7)).toThrow(KernelArgError);
    expect(() => ropeTurnTable(0, 8)).toThrow(/bad theta/);
    let err: unknown;
    try { ropeTurnTable(10000, 0); } catch (e) { err = e; }
    expect((err as KernelArgError | undefined)?.code).toBe('kernel_bad_args');
  });
});
