// YAML for flow files, through eemeli/yaml with bounds: a size cap before parsing, the
// library's alias-expansion cap (billion laughs), and a depth check that walks the parsed
// value with an explicit stack (nothing here recurses on untrusted nesting).
import { parseDocument } from 'yaml';
import { FlowError } from './errors';

/** Flow files are a few KiB; 1 MiB leaves room for big inline samples. */
export const MAX_YAML_BYTES = 1 << 20;
export const MAX_YAML_DEPTH = 64;

export function parseYaml(text: string, file: string): unknown {
  if (text.length > MAX_YAML_BYTES) throw new FlowError('yaml_too_large', `YAML over ${MAX_YAML_BYTES} characters (${text.length})`, { file });
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new FlowError('yaml_syntax', `YAML syntax error${where}: ${e.message.split('\n')[0]}`, { file });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new FlowError('yaml_syntax', `YAML error: ${(err as Error).message}`, { file });
  }
  checkDepth(value, MAX_YAML_DEPTH, file, 'yaml_too_deep');
  return value;
}

/** Throws `code` when `value` nests past `maxDepth` objects/arrays (iterative walk). */
export function checkDepth(value: unknown, maxDepth: number, file: string | undefined, code: 'yaml_too_deep' | 'bad_data'): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) throw new FlowError(code, `nested deeper than ${maxDepth} levels`, { file });
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
