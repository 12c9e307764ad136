// The layering rules, read from the import statements of src/, worker/ and demo/ (static
// imports and exports, literal dynamic imports). Layers from the bottom:
//   model → grammar (constrained decoding) → engine (the core) → openai (the facade) → api (HTTP) / client / compat / cli;
//   kernels → gpu; create-engine.ts assembles engine + gpu + openai from above them all.
// A failing rule names each offending file and import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

interface ImportEdge {
  /** Importing file, relative to the repo root (`src/engine/core.ts`). */
  from: string;
  /** Imported file or folder, relative to the repo root, without extension (`src/gpu/device`). */
  to: string;
  typeOnly: boolean;
}

// `import … from '…'`, `export … from '…'`, `import '…'`, `import('…')`.
const IMPORT_RE = /(?:^|[;\s])(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importEdges(files: string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[3] ?? m[4]!;
      const target = relative(ROOT, resolve(dirname(file), spec)).replace(/\.(ts|js|mjs)$/, '').replace(/\/index$/, '');
      edges.push({ from: relative(ROOT, file), to: target, typeOnly: m[2] !== undefined });
    }
  }
  return edges;
}

const EDGES = importEdges(['src', 'worker', 'demo'].flatMap((d) => sourceFiles(join(ROOT, d))));

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

function violations(fromFolder: string, forbidden: (to: string, edge: ImportEdge) => boolean): string[] {
  return EDGES.filter((e) => under(e.from, fromFolder) && forbidden(e.to, e)).map((e) => `${e.from} → ${e.to}`);
}

/** Everything above the engine core. */
const ABOVE_ENGINE = ['src/api', 'src/gpu', 'src/kernels', 'src/openai', 'src/client', 'src/cli', 'src/compat', 'src/shim', 'src/storage', 'src/testing', 'src/create-engine', 'src/model-id', 'src/index', 'src/node'];

describe('layers', () => {
  it('sees the imports it checks', () => {
    // A regex that matched nothing would pass every rule below.
    expect(EDGES.some((e) => e.from === 'src/create-engine.ts' && e.to === 'src/engine/core')).toBe(true);
    expect(EDGES.some((e) => e.from === 'src/create-engine.ts' && e.to === 'src/gpu/create-runner')).toBe(true);
    expect(EDGES.some((e) => e.from === 'src/kernels/sample.ts' && e.to === 'src/gpu/types' && e.typeOnly)).toBe(true);
  });

  it('the engine core imports nothing above it (no api, gpu, openai, …)', () => {
    expect(violations('src/engine', (to) => ABOVE_ENGINE.some((f) => under(to, f)))).toEqual([]);
  });

  it('the grammar layer imports only the model layer (no engine, nothing above it)', () => {
    expect(violations('src/grammar', (to) => under(to, 'src/engine') || ABOVE_ENGINE.some((f) => under(to, f)))).toEqual([]);
    expect(EDGES.some((e) => e.from === 'src/engine/core.ts' && e.to === 'src/grammar/backend')).toBe(true);
  });

  it('the model layer imports no engine (nor anything above it)', () => {
    expect(violations('src/model', (to) => under(to, 'src/engine') || under(to, 'src/grammar') || ABOVE_ENGINE.some((f) => under(to, f)))).toEqual([]);
  });

  it('kernels import from src/gpu only the types of its contracts file', () => {
    expect(violations('src/kernels', (to, e) => under(to, 'src/gpu') && !(to === 'src/gpu/types' && e.typeOnly))).toEqual([]);
  });

  it('the OpenAI facade imports no HTTP, transport or GPU layer', () => {
    const above = ['src/api', 'src/client', 'src/cli', 'src/compat', 'src/shim', 'src/gpu', 'src/kernels', 'src/create-engine', 'src/index'];
    expect(violations('src/openai', (to) => above.some((f) => under(to, f)))).toEqual([]);
  });

  it('no library, worker or demo code imports test code', () => {
    const fromShipped = EDGES.filter((e) => ['src', 'worker', 'demo'].some((d) => under(e.from, d)));
    expect(fromShipped.filter((e) => under(e.to, 'test')).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('catches an arrow it forbids (the scanner reads the forms a file uses)', () => {
    const probe = join(ROOT, 'src/engine/__probe__.ts');
    const fake = [
      ["import { x } from '../api/router';", 'src/api/router', false],
      ["import type { Y } from '../gpu/runner';", 'src/gpu/runner', true],
      ["export { z } from '../../test/helpers/rng';", 'test/helpers/rng', false],
      ["const m = await import('../openai/local-engine');", 'src/openai/local-engine', false],
    ] as const;
    for (const [line, to, typeOnly] of fake) {
      const m = [...line.matchAll(IMPORT_RE)][0];
      expect(m, line).toBeDefined();
      const spec = m![3] ?? m![4]!;
      expect(relative(ROOT, resolve(dirname(probe), spec))).toBe(to);
      expect(m![2] !== undefined).toBe(typeOnly);
    }
  });
});
