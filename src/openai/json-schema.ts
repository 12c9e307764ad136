// The structural check of a JSON Schema a client sends (response_format's json_schema,
// vLLM's guided_json / structured_outputs.json, Ollama's `format`, a tool's `parameters`):
// every keyword tabllm or the grammar engine reads has the type JSON Schema gives it, so a
// malformed schema is a 400 naming the keyword's path (`….properties.age.minimum`) before
// it reaches the engine. Whether the grammar engine can compile each construct is its own
// check (a construct it lacks is its 400). Iterative with a depth bound: a schema is
// untrusted nesting.

import { MAX_CONSTRAINT_DEPTH } from '../grammar/constraint';
import { invalid, isPlainObject, MAX_JSON_DEPTH, nestsDeeperThan, preview } from './validate';

/**
 * Deepest schema nesting walked (subschemas inside subschemas): every level opens at least one
 * bracket, so a deeper schema is beyond the grammar layer's bracket bound anyway.
 */
export const MAX_SCHEMA_DEPTH = MAX_CONSTRAINT_DEPTH;

const TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/** Keywords whose value is one subschema. */
const ONE_SCHEMA = ['additionalProperties', 'additionalItems', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems'];
/** Keywords whose value is an object of name → subschema. */
const SCHEMA_MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
/** Keywords whose value is a non-empty array of subschemas. */
const SCHEMA_LIST = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
/** Counts: non-negative integers. */
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'];
/** Bounds: finite numbers (draft 4's boolean exclusive bounds too). */
const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
/** Pairs that must not cross. */
const MIN_MAX: [string, string][] = [['minLength', 'maxLength'], ['minItems', 'maxItems'], ['minProperties', 'maxProperties'], ['minimum', 'maximum']];

/**
 * Checks `schema` (a top-level schema must be an object; subschemas may be booleans);
 * throws a 400 `invalid_request` naming `param` + the path of the first bad keyword.
 */
export function checkJsonSchema(schema: unknown, param: string): void {
  if (!isPlainObject(schema)) throw invalid(param, `'${param}' must be a JSON Schema object, not ${preview(schema)}.`);
  const stack: [unknown, string, number][] = [[schema, param, 0]];
  while (stack.length > 0) {
    const [node, path, depth] = stack.pop()!;
    if (typeof node === 'boolean') continue;
    if (!isPlainObject(node)) throw invalid(path, `'${path}' must be a schema (an object or a boolean), not ${preview(node)}.`);
    if (depth >= MAX_SCHEMA_DEPTH) throw invalid(path, `'${param}' nests deeper than ${MAX_SCHEMA_DEPTH} subschemas.`);
    checkKeywords(node, path);
    const push = (child: unknown, childPath: string) => stack.push([child, childPath, depth + 1]);
    for (const key of ONE_SCHEMA) if (key in node) push(node[key], `${path}.${key}`);
    for (const key of SCHEMA_MAP) {
      if (!(key in node)) continue;
      const map = node[key];
      if (!isPlainObject(map)) throw invalid(`${path}.${key}`, `'${path}.${key}' must be an object of subschemas.`);
      for (const [name, child] of Object.entries(map)) push(child, `${path}.${key}.${name}`);
    }
    for (const key of SCHEMA_LIST) {
      if (!(key in node)) continue;
      const list = node[key];
      if (!Array.isArray(list) || list.length === 0) throw invalid(`${path}.${key}`, `'${path}.${key}' must be a non-empty array of subschemas.`);
      list.forEach((child, i) => push(child, `${path}.${key}[${i}]`));
    }
    if ('items' in node) {
      // Draft 4's tuple form (an array) or one schema for every item.
      const items = node.items;
      if (Array.isArray(items)) items.forEach((child, i) => push(child, `${path}.items[${i}]`));
      else push(items, `${path}.items`);
    }
  }
}

function checkKeywords(node: Record<string, unknown>, path: string): void {
  const at = (key: string) => `${path}.${key}`;
  if ('type' in node) {
    const type = node.type;
    const ok = typeof type === 'string' ? TYPES.has(type) : Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === 'string' && TYPES.has(t));
    if (!ok) throw invalid(at('type'), `'${at('type')}' must be one of ${[...TYPES].join(', ')} (or a non-empty array of them), got ${preview(type)}.`);
  }
  if ('required' in node && !(Array.isArray(node.required) && node.required.every((r) => typeof r === 'string'))) {
    throw invalid(at('required'), `'${at('required')}' must be an array of property names.`);
  }
  if ('enum' in node && !(Array.isArray(node.enum) && node.enum.length > 0)) {
    throw invalid(at('enum'), `'${at('enum')}' must be a non-empty array.`);
  }
  for (const key of ['$ref', 'pattern', 'format']) {
    if (key in node && typeof node[key] !== 'string') throw invalid(at(key), `'${at(key)}' must be a string, not ${preview(node[key])}.`);
  }
  if (typeof node.pattern === 'string') {
    try {
      // JSON Schema patterns are ECMA-262 regular expressions.
      new RegExp(node.pattern, 'u');
    } catch (err) {
      throw invalid(at('pattern'), `'${at('pattern')}' is not a regular expression: ${(err as Error).message}.`);
    }
  }
  for (const key of COUNTS) {
    const v = node[key];
    if (key in node && !(Number.isSafeInteger(v) && (v as number) >= 0)) throw invalid(at(key), `'${at(key)}' must be a non-negative integer, got ${preview(v)}.`);
  }
  for (const key of BOUNDS) {
    const v = node[key];
    if (key in node && !(Number.isFinite(v) || (key.startsWith('exclusive') && typeof v === 'boolean'))) {
      throw invalid(at(key), `'${at(key)}' must be a finite number, got ${preview(v)}.`);
    }
  }
  if ('multipleOf' in node && !(Number.isFinite(node.multipleOf) && (node.multipleOf as number) > 0)) {
    throw invalid(at('multipleOf'), `'${at('multipleOf')}' must be a number above 0, got ${preview(node.multipleOf)}.`);
  }
  for (const [lo, hi] of MIN_MAX) {
    if (typeof node[lo] === 'number' && typeof node[hi] === 'number' && (node[lo] as number) > (node[hi] as number)) {
      throw invalid(at(lo), `'${at(lo)}' (${node[lo]}) is above '${at(hi)}' (${node[hi]}): no value can match.`);
    }
  }
}

/**
 * A schema sent as an object or as JSON text (vLLM's `guided_json` and `structured_outputs.json`
 * take both): the checked schema object.
 */
export function schemaFromWire(value: unknown, param: string): Record<string, unknown> {
  let schema = value;
  if (typeof value === 'string') {
    try {
      schema = JSON.parse(value);
    } catch {
      throw invalid(param, `'${param}' is not valid JSON: ${preview(value)}.`);
    }
    // The text skipped the body's depth check; everything downstream copies it recursively.
    if (nestsDeeperThan(schema, MAX_JSON_DEPTH)) throw invalid(param, `'${param}' nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  checkJsonSchema(schema, param);
  return schema as Record<string, unknown>;
}
