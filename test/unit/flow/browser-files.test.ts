// The browser adapters that fill FlowFiles: a picked folder (directory handle), a
// webkitdirectory FileList, plain Files, and URLs (the flow file, then what it references),
// with the file-count and file-size bounds as coded errors. Runs on the real fixtures.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesFromDirectoryHandle, filesFromFileList, filesFromFiles, filesFromUrl, runFlow } from '../../../src/flow';
import type { DirectoryHandleLike, FileLike } from '../../../src/flow/browser-files';
import { PROMPTFLOW_FIXTURES, readFixture } from '../../helpers/flow-fixtures';

const fileLike = (path: string, text: string, relPath?: string): FileLike => ({
  name: path.slice(path.lastIndexOf('/') + 1),
  size: Buffer.byteLength(text),
  webkitRelativePath: relPath,
  text: async () => text,
});

/** A fixture folder as `<input webkitdirectory>` gives it: paths start with the folder's name. */
function pickedFolder(dir: string): FileLike[] {
  const root = resolve(PROMPTFLOW_FIXTURES, dir);
  const name = root.slice(root.lastIndexOf('/') + 1);
  return readdirSync(root).map((f) => fileLike(f, readFileSync(join(root, f), 'utf8'), `${name}/${f}`));
}

/** A directory handle over a real folder (what showDirectoryPicker() returns). */
function handleFor(dir: string): DirectoryHandleLike {
  return {
    kind: 'directory',
    name: dir.slice(dir.lastIndexOf('/') + 1),
    async *values() {
      for (const f of readdirSync(dir)) {
        const full = join(dir, f);
        if (statSync(full).isDirectory()) yield handleFor(full);
        else yield { kind: 'file' as const, name: f, getFile: async () => fileLike(f, readFileSync(full, 'utf8')) };
      }
    },
  };
}

function fixtureServer(): typeof fetch {
  return (async (url: string | URL) => {
    const path = new URL(String(url)).pathname.replace(/^\/flows-root\//, '');
    try {
      return new Response(readFileSync(resolve(PROMPTFLOW_FIXTURES, path), 'utf8'));
    } catch {
      return new Response('not found', { status: 404 });
    }
  }) as typeof fetch;
}

async function codeOf(p: Promise<unknown>) {
  return p.then(() => ({ code: 'none' }), (e: { code?: string; file?: string; message?: string }) => ({ code: e.code, file: e.file, message: e.message }));
}

describe('browser flow files', () => {
  it('a webkitdirectory FileList gives the same map as the CLI reads from disk', async () => {
    const disk = await readFixture('flows/named-entity-recognition');
    const picked = await filesFromFileList(pickedFolder('flows/named-entity-recognition'));
    expect(Object.fromEntries(picked.files)).toEqual(Object.fromEntries(disk.files));
  });

  it('a directory handle walks sub-folders and skips __pycache__, node_modules and binary files', async () => {
    const fake: DirectoryHandleLike = {
      kind: 'directory',
      name: 'flow',
      async *values() {
        yield { kind: 'file' as const, name: 'flow.dag.yaml', getFile: async () => fileLike('flow.dag.yaml', 'nodes: []\n') };
        yield { kind: 'file' as const, name: 'logo.png', getFile: async () => fileLike('logo.png', '\u0089PNG') };
        for (const skipped of ['__pycache__', 'node_modules']) {
          yield { kind: 'directory' as const, name: skipped, async *values() { yield { kind: 'file' as const, name: 'x.py', getFile: async () => fileLike('x.py', 'boom') }; } };
        }
        yield { kind: 'directory' as const, name: 'lib', async *values() { yield { kind: 'file' as const, name: 'utils.py', getFile: async () => fileLike('utils.py', 'X = 1\n') }; } };
      },
    };
    const { files } = await filesFromDirectoryHandle(fake);
    expect([...files.keys()].sort()).toEqual(['flow.dag.yaml', 'lib/utils.py']);
    const real = await filesFromDirectoryHandle(handleFor(resolve(PROMPTFLOW_FIXTURES, 'flows/chat-basic')));
    expect(Object.fromEntries(real.files)).toEqual(Object.fromEntries((await readFixture('flows/chat-basic')).files));
  });

  it('plain Files use their names; a flow loads from them', async () => {
    const { files } = await filesFromFiles([fileLike('a.prompty', '---\nmodel:\n  api: chat\n---\nuser:\nhi\n'), fileLike('notes.bin', 'x')]);
    expect([...files.keys()]).toEqual(['a.prompty']);
  });

  it('over the file-count or file-size bound: flow_too_large naming the file', async () => {
    const many = Array.from({ length: 4 }, (_, i) => fileLike(`f${i}.txt`, 'x'));
    expect(await codeOf(filesFromFiles(many, { maxFiles: 3 }))).toMatchObject({ code: 'flow_too_large', file: 'f3.txt' });
    let read = false;
    const big: FileLike = { name: 'data.jsonl', size: 5000, text: async () => ((read = true), 'x'.repeat(5000)) };
    expect(await codeOf(filesFromFiles([big], { maxFileBytes: 4096 }))).toMatchObject({ code: 'flow_too_large', file: 'data.jsonl' });
    expect(read).toBe(false);
  });

  it('URLs: the flow file, then its node sources, equal to the folder (less what no node reads)', async () => {
    const { files, entry } = await filesFromUrl('http://x.test/flows-root/flows/conditional-flow-for-if-else', { fetch: fixtureServer() });
    expect(entry).toBeUndefined();
    const disk = (await readFixture('flows/conditional-flow-for-if-else')).files;
    expect([...files.keys()].sort()).toEqual(['content_safety_check.py', 'default_result.py', 'flow.dag.yaml', 'generate_result.py', 'llm_result.py']);
    for (const [path, text] of files) expect(text).toBe(disk.get(path));
  });

  it('URLs: a .prompty entry fetches its ${file:sample.json}', async () => {
    const { files, entry } = await filesFromUrl('http://x.test/flows-root/prompty/format-output/', { entry: 'json_format.prompty', fetch: fixtureServer() });
    expect(entry).toBe('json_format.prompty');
    expect([...files.keys()].sort()).toEqual(['json_format.prompty', 'sample.json']);
  });

  it('URLs: a missing flow file or source is a coded error naming it; a path out of the folder is refused', async () => {
    expect(await codeOf(filesFromUrl('http://x.test/flows-root/nope/', { fetch: fixtureServer() }))).toMatchObject({ code: 'flow_file_missing', file: 'flow.dag.yaml' });
    const serve = (files: Record<string, string>) => (async (url: string | URL) => {
      const text = files[new URL(String(url)).pathname.slice(1)];
      return text === undefined ? new Response('', { status: 404 }) : new Response(text);
    }) as typeof fetch;
    const flow = (path: string) => `outputs:\n  o: {reference: "\${n.output}"}\nnodes:\n- name: n\n  type: python\n  source: {type: code, path: ${path}}\n  inputs: {}\n`;
    expect(await codeOf(filesFromUrl('http://x.test/', { fetch: serve({ 'flow.dag.yaml': flow('gone.py') }) }))).toMatchObject({ code: 'source_file_missing', file: 'gone.py' });
    expect(await codeOf(filesFromUrl('http://x.test/f/', { fetch: serve({ 'f/flow.dag.yaml': flow('../secret.py'), 'secret.py': 'x' }) }))).toMatchObject({ code: 'bad_flow', file: '../secret.py' });
    const big = (async () => new Response('x', { headers: { 'content-length': '99999999' } })) as unknown as typeof fetch;
    expect(await codeOf(filesFromUrl('http://x.test/', { fetch: big }))).toMatchObject({ code: 'flow_too_large', file: 'flow.dag.yaml' });
  });

  it('a flow read from URLs runs like the folder it came from (Python nodes only: no engine)', async () => {
    const { files } = await filesFromUrl('http://x.test/flows-root/flows/conditional-flow-for-if-else', { fetch: fixtureServer() });
    const disk = await readFixture('flows/conditional-flow-for-if-else');
    const inputs = { question: 'What is Prompt flow?' };
    const fromUrl = await runFlow(files, inputs, { pythonSeed: 1 });
    expect(fromUrl.outputs).toEqual((await runFlow(disk.files, inputs, { pythonSeed: 1 })).outputs);
    expect(Object.keys(fromUrl.outputs as object)).toEqual(['answer']);
  });
});
