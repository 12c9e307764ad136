import { describe, expect, it } from 'vitest';
import { getTestDevice } from '../helpers/gpu';
import { runSmoke, smokeExpected, smokeInput, SMOKE_N } from '../helpers/smoke-kernel';

describe('gpu smoke (Node, webgpu package)', () => {
  it('runs a compute shader and reads back every element', async () => {
    const { device } = await getTestDevice();
    const x = smokeInput();
    const y = await runSmoke(device, x);
    const want = smokeExpected(x);
    expect(y.length).toBe(SMOKE_N);
    for (let i = 0; i < SMOKE_N; i++) expect(y[i]).toBe(want[i]);
  });
});
