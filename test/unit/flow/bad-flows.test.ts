// Bad flows, prompty files, data and options: each a FlowError with a code, naming the file
// and (where there is one) the node. None of these needs a model: they fail before any LLM call.
import { describe, expect, it } from 'vitest';
import { batchRun, loadFlow, runFlow } from '../../../src/flow';
import { MAX_YAML_BYTES } from '../../../src/flow/yaml';

const LLM_NODE = (extra = '') => `- name: ask\n  type: llm\n  api: chat\n  source: {type: code, path: ask.jinja2}\n  inputs:\n    q: \${inputs.q}\n${extra}`;
const FLOW = (nodes: string, outputs = 'out: {reference: "${ask.output}"}') => `inputs:\n  q: {type: string, default: hi}\noutputs:\n  ${outputs}\nnodes:\n${nodes}`;
const TEMPLATE = 'system:\nBe brief.\nuser:\n{{q}}\n';
const PY_FLOW = (py: string) => ({
  'flow.dag.yaml': 'inputs:\n  q: {type: string, default: hi}\noutputs:\n  out: {reference: "${py.output}"}\nnodes:\n- name: py\n  type: python\n  source: {type: code, path: node.py}\n  inputs: {q: "${inputs.q}"}\n',
  'node.py': py,
});
/** No engine: an llm node that got as far as its request would fail with llm_request_failed instead. */
const noEngine = { engineServes: 'local' as const };

async function codeOf(p: Promise<unknown>) {
  return p.then(
    () => ({ code: 'none', message: '' }) as { code?: string; message?: string },
    (e: { name?: string; code?: string; file?: string; node?: string; message?: string }) => ({ name: e.name, code: e.code, file: e.file, node: e.node, message: e.message }),
  );
}

describe('bad flows → FlowError with a code, the file and the node', () => {
  it('YAML syntax error', async () => {
    const r = await codeOf(runFlow({ 'flow.dag.yaml': 'inputs:\n  q: [unclosed\nnodes: []\n' }));
    expect(r).toMatchObject({ name: 'FlowError', code: 'yaml_syntax', file: 'flow.dag.yaml' });
    expect(r.message).toMatch(/line \d+/);
  });

  it('YAML over the size bound, and nested past the depth bound', async () => {
    expect(await codeOf(runFlow({ 'flow.dag.yaml': `# ${'x'.repeat(MAX_YAML_BYTES)}\n` }))).toMatchObject({ code: 'yaml_too_large', file: 'flow.dag.yaml' });
    const deep = `inputs: ${'['.repeat(100)}${']'.repeat(100)}\n`;
    expect(await codeOf(runFlow({ 'flow.dag.yaml': deep }))).toMatchObject({ code: 'yaml_too_deep', file: 'flow.dag.yaml' });
  });

  it('unknown node type', async () => {
    const files = { 'flow.dag.yaml': FLOW('- name: ask\n  type: bash\n  source: {type: code, path: ask.jinja2}\n'), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'unknown_node_type', file: 'flow.dag.yaml', node: 'ask' });
  });

  it('a reference to a node that does not exist, and to an undeclared input', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE('    other: ${nope.output}\n')), 'ask.jinja2': TEMPLATE };
    const r = await codeOf(runFlow(files));
    expect(r).toMatchObject({ code: 'missing_reference', file: 'flow.dag.yaml', node: 'ask' });
    expect(r.message).toContain("node 'nope'");
    const files2 = { 'flow.dag.yaml': FLOW(LLM_NODE('    other: ${inputs.missing}\n')), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files2))).toMatchObject({ code: 'missing_reference', node: 'ask', message: expect.stringContaining("'missing'") });
  });

  it('an output referencing a missing node', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE(), 'out: {reference: "${gone.output}"}'), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'missing_reference', file: 'flow.dag.yaml', message: expect.stringContaining("output 'out'") });
  });

  it('a reference PromptFlow does not know (${ask.result})', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE('    other: ${ask.result}\n')), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'bad_reference', node: 'ask' });
  });

  it('a cycle', async () => {
    const nodes = ['a', 'b'].map((n, i) => `- name: ${n}\n  type: prompt\n  source: {type: code, path: t.jinja2}\n  inputs: {x: "\${${i ? 'a' : 'b'}.output}"}\n`).join('');
    const r = await codeOf(runFlow({ 'flow.dag.yaml': FLOW(nodes, 'out: {reference: "${a.output}"}'), 't.jinja2': '{{x}}' }));
    expect(r).toMatchObject({ code: 'cycle', file: 'flow.dag.yaml', node: 'a' });
    expect(r.message).toContain("'a', 'b'");
  });

  it('a missing template file', async () => {
    expect(await codeOf(runFlow({ 'flow.dag.yaml': FLOW(LLM_NODE()) }))).toMatchObject({ code: 'source_file_missing', file: 'flow.dag.yaml', node: 'ask', message: expect.stringContaining('ask.jinja2') });
  });

  it('no flow file at all', async () => {
    expect(await codeOf(runFlow({ 'README.md': '# hi' }))).toMatchObject({ code: 'flow_file_missing' });
  });

  it('a duplicate node name', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE() + LLM_NODE()), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'bad_flow', node: 'ask' });
  });

  it('activate on a missing node', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE('  activate: {when: "${check.output}", is: true}\n')), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'missing_reference', node: 'ask', message: expect.stringContaining('activate.when') });
  });

  it('a Python syntax error', async () => {
    const r = await codeOf(runFlow(PY_FLOW('from promptflow.core import tool\n\n@tool\ndef f(q:\n    return q\n')));
    expect(r).toMatchObject({ code: 'python_syntax_error', file: 'node.py', node: 'py' });
    expect(r.message).toMatch(/line [45]/);
  });

  it('a missing Python package names it', async () => {
    const r = await codeOf(runFlow(PY_FLOW('import requests\nfrom promptflow.core import tool\n\n@tool\ndef f(q):\n    return q\n')));
    expect(r).toMatchObject({ code: 'python_package_missing', file: 'node.py', node: 'py' });
    expect(r.message).toContain("'requests'");
  });

  it('a Python file without a @tool function', async () => {
    expect(await codeOf(runFlow(PY_FLOW('def f(q):\n    return q\n')))).toMatchObject({ code: 'python_tool_not_found', file: 'node.py', node: 'py' });
  });

  it('a Python exception names the type and line; a Python node runs with the shim (from promptflow import tool)', async () => {
    const r = await codeOf(runFlow(PY_FLOW('from promptflow import tool\n\n@tool\ndef f(q):\n    raise ValueError("no " + q)\n')));
    expect(r).toMatchObject({ code: 'python_node_failed', node: 'py', message: expect.stringContaining('ValueError (line 5): no hi') });
    const ok = await runFlow(PY_FLOW('from promptflow.core import tool\nfrom promptflow.connections import CustomConnection\n\n@tool\ndef f(q: str):\n    return {"q": q.upper(), "n": None, "t": (1, 2)}\n'));
    expect(ok.outputs).toEqual({ out: { q: 'HI', n: null, t: [1, 2] } });
  });

  it('a required input not given, and an input that does not convert to its type', async () => {
    const files = {
      'flow.dag.yaml': 'inputs:\n  n: {type: int}\noutputs:\n  out: {reference: "${p.output}"}\nnodes:\n- name: p\n  type: prompt\n  source: {type: code, path: t.jinja2}\n  inputs: {n: "${inputs.n}"}\n',
      't.jinja2': '{{ n + 1 }}',
    };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'missing_input', file: 'flow.dag.yaml', message: expect.stringContaining("'n'") });
    expect(await codeOf(runFlow(files, { n: 'seven' }))).toMatchObject({ code: 'bad_input_type', message: expect.stringContaining('int') });
    expect((await runFlow(files, { n: '7' })).outputs).toEqual({ out: '8' });
  });

  it('a chat prompt with text before its first role line', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE()), 'ask.jinja2': 'Hello there\nuser:\n{{q}}\n' };
    expect(await codeOf(runFlow(files, {}, noEngine))).toMatchObject({ code: 'bad_chat_prompt', file: 'ask.jinja2', node: 'ask' });
  });

  it("an LLM parameter that is not a number (max_tokens: 'lots')", async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE('    max_tokens: lots\n')), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files, {}, noEngine))).toMatchObject({ code: 'bad_llm_parameter', node: 'ask', message: expect.stringContaining('max_tokens') });
  });

  it('a Jinja2 template that does not parse', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE()), 'ask.jinja2': 'user:\n{% for x in %}\n' };
    expect(await codeOf(runFlow(files, {}, noEngine))).toMatchObject({ code: 'template_error', file: 'ask.jinja2', node: 'ask' });
  });

  it('an llm node with no engine to serve its local connection', async () => {
    const files = { 'flow.dag.yaml': FLOW(LLM_NODE()), 'ask.jinja2': TEMPLATE };
    expect(await codeOf(runFlow(files, {}, noEngine))).toMatchObject({ code: 'llm_request_failed', node: 'ask', message: expect.stringContaining('local engine') });
  });

  it('a .prompty without front matter, and with a bad model.api', async () => {
    expect(await codeOf(runFlow({ 'a.prompty': 'system:\nhi\n' }))).toMatchObject({ code: 'bad_flow', file: 'a.prompty' });
    expect(await codeOf(runFlow({ 'a.prompty': '---\nmodel:\n  api: images\n---\nuser:\nhi\n' }))).toMatchObject({ code: 'bad_flow', file: 'a.prompty', message: expect.stringContaining('images') });
    expect(await codeOf(runFlow({ 'a.prompty': '---\nsample: ${file:nope.json}\n---\nuser:\nhi\n' }))).toMatchObject({ code: 'source_file_missing', file: 'a.prompty' });
  });
});

describe('a Python node that never returns', () => {
  it('is stopped at its time limit (python_timeout), in the function or at module load; the interpreter still works', async () => {
    const loop = PY_FLOW('from promptflow.core import tool\n\n@tool\ndef f(q):\n    while True:\n        pass\n');
    expect(await codeOf(runFlow(loop, {}, { pythonTimeoutMs: 200 }))).toMatchObject({ code: 'python_timeout', file: 'node.py', node: 'py' });
    const atLoad = PY_FLOW('from promptflow.core import tool\nwhile True:\n    pass\n');
    expect(await codeOf(runFlow(atLoad, {}, { pythonTimeoutMs: 200 }))).toMatchObject({ code: 'python_timeout', node: 'py' });
    expect((await runFlow(PY_FLOW('from promptflow.core import tool\n\n@tool\ndef f(q):\n    return q * 2\n'))).outputs).toEqual({ out: 'hihi' });
  });
});

describe('Python modules of the flow folder', () => {
  it("a node imports its flow's own modules; two flows' utils.py stay apart", async () => {
    const flow = (n: number) => ({
      ...PY_FLOW('from promptflow.core import tool\nfrom utils import helper\nfrom pkg.deep import twice\n\n@tool\ndef f(q):\n    return twice(helper(q))\n'),
      'utils.py': `def helper(q):\n    return q + "${n}"\n`,
      'pkg/__init__.py': '',
      'pkg/deep.py': 'def twice(s):\n    return s * 2\n',
    });
    expect((await runFlow(flow(1))).outputs).toEqual({ out: 'hi1hi1' });
    expect((await runFlow(flow(2))).outputs).toEqual({ out: 'hi2hi2' });
  });

  it('a syntax error in an imported module names the node', async () => {
    const files = { ...PY_FLOW('from promptflow.core import tool\nimport broken\n\n@tool\ndef f(q):\n    return q\n'), 'broken.py': 'def (:\n' };
    expect(await codeOf(runFlow(files))).toMatchObject({ code: 'python_syntax_error', file: 'node.py', node: 'py' });
  });
});

describe('bad batch runs', () => {
  const files = { 'flow.dag.yaml': FLOW(LLM_NODE()), 'ask.jinja2': TEMPLATE };

  it('a column mapping to an unknown input, or that is not ${data.x}, fails the run before any line', async () => {
    expect(await codeOf(batchRun(files, [{ q: 'a' }], { columnMapping: { nope: '${data.q}' } }))).toMatchObject({ code: 'bad_column_mapping', file: 'flow.dag.yaml' });
    expect(await codeOf(batchRun(files, [{ q: 'a' }], { columnMapping: { q: '${data.q' } }))).toMatchObject({ code: 'bad_column_mapping' });
    expect(await codeOf(batchRun(files, [{ q: 'a' }], { columnMapping: { q: '${run.outputs.x}' } }))).toMatchObject({ code: 'bad_column_mapping', message: expect.stringContaining('none was given') });
  });

  it('a bad concurrency', async () => {
    expect(await codeOf(batchRun(files, [], { concurrency: 0 }))).toMatchObject({ code: 'bad_data' });
  });

  it('a flow that does not load fails the batch run as a whole', async () => {
    expect(() => loadFlow({ 'flow.dag.yaml': 'nodes: 3\n' })).toThrow(expect.objectContaining({ code: 'bad_flow' }));
    expect(await codeOf(batchRun({ 'flow.dag.yaml': 'nodes: 3\n' }, [{}]))).toMatchObject({ code: 'bad_flow' });
  });
});
