// onNodeStatus: the node states a UI shows while a flow runs (the demo's DAG view) —
// running then completed, bypassed for an inactive branch, running then failed — in an order
// that respects the dependencies. Python nodes on a scripted runtime (no Pyodide needed).
import { describe, expect, it } from 'vitest';
import { runFlow, type PythonRuntime } from '../../../src/flow';

const FLOW = `inputs:
  q: {type: string, default: hi}
outputs:
  out: {reference: "\${yes.output}"}
nodes:
- name: check
  type: python
  source: {type: code, path: check.py}
  inputs: {q: "\${inputs.q}"}
- name: yes
  type: prompt
  source: {type: code, path: yes.jinja2}
  inputs: {q: "\${inputs.q}"}
  activate: {when: "\${check.output}", is: true}
- name: no
  type: python
  source: {type: code, path: no.py}
  inputs: {q: "\${inputs.q}"}
  activate: {when: "\${check.output}", is: false}
`;
const FILES = { 'flow.dag.yaml': FLOW, 'check.py': '', 'no.py': '', 'yes.jinja2': 'yes {{q}}' };

function scripted(results: Record<string, unknown>): PythonRuntime {
  return {
    call: async (c) => {
      const r = results[c.node];
      if (r instanceof Error) throw r;
      return r;
    },
  };
}

describe('onNodeStatus', () => {
  it('running → completed per node; the inactive branch is bypassed, never running', async () => {
    const seen: string[] = [];
    const r = await runFlow(FILES, { q: 'x' }, { python: scripted({ check: true }), onNodeStatus: (n, s) => seen.push(`${n}:${s}`) });
    expect(r.outputs).toEqual({ out: 'yes x' });
    // Per node, in order; yes and no start together once check is done (their order is free).
    const of = (node: string) => seen.filter((e) => e.startsWith(`${node}:`));
    expect(of('check')).toEqual(['check:running', 'check:completed']);
    expect(of('yes')).toEqual(['yes:running', 'yes:completed']);
    expect(of('no')).toEqual(['no:bypassed']);
    expect(seen.slice(0, 2)).toEqual(['check:running', 'check:completed']);
  });

  it('a failing node reports failed', async () => {
    const seen: string[] = [];
    await expect(runFlow(FILES, {}, { python: scripted({ check: new Error('boom') }), onNodeStatus: (n, s) => seen.push(`${n}:${s}`) })).rejects.toThrow('boom');
    expect(seen).toEqual(['check:running', 'check:failed']);
  });
});
