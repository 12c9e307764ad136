// BigramHeap pops by (priority, left) ascending, across growth beyond its initial capacity.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { BigramHeap } from '../../../src/model/tokenizer/heap';

it('pops in (priority, left) order, with payloads intact', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 300 }), (items) => {
      const heap = new BigramHeap();
      items.forEach(([priority, left], i) => heap.push(priority, left, left + 1, i, i * 7));
      const popped: [number, number, number][] = [];
      const out = new Int32Array(4);
      while (heap.pop(out)) popped.push([items[out[2]][0], out[0], out[3]]);
      const expected = items.map(([p, l], i) => [p, l, i * 7] as [number, number, number]);
      expected.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      // Equal (priority, left) pairs may come out in any order; compare the keys, then the payload sets.
      expect(popped.map(([p, l]) => [p, l])).toEqual(expected.map(([p, l]) => [p, l]));
      expect(popped.map((x) => x[2]).sort((a, b) => a - b)).toEqual(expected.map((x) => x[2]).sort((a, b) => a - b));
      expect(heap.length).toBe(0);
    }),
  );
});
