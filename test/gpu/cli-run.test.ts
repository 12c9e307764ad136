// `tabllm run` on the real pretrained stories260K through WebGPU (Dawn) prints exactly
// what llama2.c's run.c prints at temperature 0 (../shared/fixtures/stories260K/reference-greedy.txt).
import { describe, expect, it } from 'vitest';
import { runTabllm } from '../helpers/cli-process';
import { referenceStdout, STORIES_GGUF } from '../helpers/stories-reference';



describe('tabllm run (WebGPU)', () => {
  it('-n 256 --temperature 0 prints llama2.c reference case 1 exactly', () => {
    const r = runTabllm(['run', STORIES_GGUF, '-n', '256', '--temperature', '0']);
    expect(r.stderr).toMatch(/256 tokens/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(referenceStdout(0));
  });

  it('-p "Once upon a time" -n 64 prints reference case 2 exactly', () => {
    const r = runTabllm(['run', STORIES_GGUF, '-p', 'Once upon a time', '-n', '64', '--temperature', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(referenceStdout(1));
  });
});
