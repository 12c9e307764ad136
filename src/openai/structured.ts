// Structured-output surfaces of the OpenAI-compatible routes, parsed once into the engine's
// `OutputConstraint`: OpenAI's `response_format` (`json_object`, `json_schema`), vLLM's
// `structured_outputs` (`json`, `regex`, `choice`, `grammar`, `json_object`,
// `structural_tag`) and its older `guided_json` / `guided_regex` / `guided_choice` /
// `guided_grammar`. One request names at most one of them (two is a 400 naming both).
// The Ollama, Responses and WebLLM surfaces map onto the same constraint kinds through
// `schemaConstraint` and `jsonObjectConstraint` here.

import type { OutputConstraint } from '../engine/request';
import { MAX_CHOICES as MAX_GUIDED_CHOICES } from '../grammar/constraint';
import { checkJsonSchema, schemaFromWire } from './json-schema';
import { arrayOf, bool, identifier, invalid, isPlainObject, object, preview, str, unsupportedParam, type Check, type ParamTable } from './validate';


export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } };

/** vLLM's `structured_outputs`: exactly one constraint field. */
export interface StructuredOutputs {
  json?: Record<string, unknown> | string | null;
  regex?: string | null;
  choice?: string[] | null;
  grammar?: string | null;
  json_object?: boolean | null;
  structural_tag?: string | null;
}

export interface StructuredFields {
  response_format?: ResponseFormat | null;
  structured_outputs?: StructuredOutputs | null;
  guided_json?: Record<string, unknown> | string | null;
  guided_regex?: string | null;
  guided_choice?: string[] | null;
  guided_grammar?: string | null;
}

const nonEmptyString: Check = (v, p) => {
  str(v, p);
  if ((v as string).length === 0) throw invalid(p, `'${p}' must not be empty.`);
};

const schemaCheck: Check = (v, p) => {
  if (typeof v !== 'string' && !isPlainObject(v)) throw invalid(p, `'${p}' must be a JSON Schema (an object or its JSON text), not ${preview(v)}.`);
  schemaFromWire(v, p);
};

const choices: Check = arrayOf(str, { minLength: 1, maxLength: MAX_GUIDED_CHOICES });

const JSON_SCHEMA_FORMAT: ParamTable = {
  name: { required: true, check: identifier },
  description: { check: str },
  schema: { check: checkJsonSchema },
  strict: { check: bool },
};

/** OpenAI's `response_format`: `text`, `json_object`, or `json_schema` with a named schema. */
export const responseFormat: Check = (v, p) => {
  if (!isPlainObject(v)) throw invalid(p, `'${p}' must be an object, not ${preview(v)}.`);
  const type: Check = (t, q) => str(t, q);
  if (v.type === 'text' || v.type === 'json_object') return object({ type: { required: true, check: type } })(v, p);
  if (v.type === 'json_schema') return object({ type: { required: true, check: type }, json_schema: { required: true, check: object(JSON_SCHEMA_FORMAT) } })(v, p);
  if (v.type === 'structural_tag') throw unsupportedParam(`${p}.type`, " with 'structural_tag' (send structured_outputs.structural_tag)");
  throw invalid(`${p}.type`, `'${p}.type' must be one of 'text', 'json_object', 'json_schema', got ${preview(v.type)}.`);
};

export const STRUCTURED_OUTPUTS: ParamTable = {
  json: { check: schemaCheck },
  regex: { check: nonEmptyString },
  choice: { check: choices },
  grammar: { check: nonEmptyString },
  json_object: { check: bool },
  structural_tag: { check: nonEmptyString },
  // One grammar backend and no fallback: nothing to choose or disable.
  disable_fallback: { ignored: true },
  disable_any_whitespace: { unsupported: (v) => v !== false },
  disable_additional_properties: { unsupported: (v) => v !== false },
  whitespace_pattern: { unsupported: () => true },
};

/** The table rows of the surfaces above, shared by chat and completions. */
export const STRUCTURED_PARAMS: ParamTable = {
  response_format: { check: responseFormat },
  structured_outputs: { check: object(STRUCTURED_OUTPUTS) },
  guided_json: { check: schemaCheck },
  guided_regex: { check: nonEmptyString },
  guided_choice: { check: choices },
  guided_grammar: { check: nonEmptyString },
  guided_decoding_backend: { ignored: true },
  guided_whitespace_pattern: { unsupported: () => true },
};

export const jsonObjectConstraint: OutputConstraint = { kind: 'json_object' };

export function schemaConstraint(schema: Record<string, unknown>, strict?: boolean): OutputConstraint {
  return strict === undefined ? { kind: 'json_schema', schema: JSON.stringify(schema) } : { kind: 'json_schema', schema: JSON.stringify(schema), strict };
}

const has = (v: unknown): boolean => v !== undefined && v !== null;

/** The one field `structured_outputs` sets (two are a 400). */
function structuredOutputsField(so: StructuredOutputs, p: string): keyof StructuredOutputs | undefined {
  const set = (['json', 'regex', 'choice', 'grammar', 'json_object', 'structural_tag'] as const).filter((k) => has(so[k]) && so[k] !== false);
  if (set.length > 1) throw invalid(`${p}.${set[1]}`, `'${p}.${set[0]}' and '${p}.${set[1]}' are both set: send one kind of structured output.`);
  return set[0];
}

/** `structured_outputs`' one field → its constraint. */
function fromStructuredOutputs(so: StructuredOutputs, p: string): OutputConstraint | undefined {
  switch (structuredOutputsField(so, p)) {
    case 'json': return schemaConstraint(schemaFromWire(so.json, `${p}.json`));
    case 'regex': return { kind: 'regex', pattern: so.regex! };
    case 'choice': return { kind: 'choice', choices: so.choice! };
    case 'grammar': return { kind: 'grammar', ebnf: so.grammar! };
    case 'json_object': return jsonObjectConstraint;
    case 'structural_tag': return { kind: 'structural_tag', tag: so.structural_tag! };
    default: return undefined;
  }
}

/** The surfaces a request sets, each with its constraint (in the order a message names them). */
function surfaces(f: StructuredFields): [string, () => OutputConstraint | undefined][] {
  const out: [string, () => OutputConstraint | undefined][] = [];
  const rf = f.response_format;
  if (has(rf) && rf!.type !== 'text') {
    out.push(['response_format', () => {
      if (rf!.type === 'json_object') return jsonObjectConstraint;
      const { schema, strict } = (rf as Extract<ResponseFormat, { type: 'json_schema' }>).json_schema;
      return schema === undefined ? jsonObjectConstraint : schemaConstraint(schema, strict ?? undefined);
    }]);
  }
  if (has(f.structured_outputs)) out.push(['structured_outputs', () => fromStructuredOutputs(f.structured_outputs!, 'structured_outputs')]);
  if (has(f.guided_json)) out.push(['guided_json', () => schemaConstraint(schemaFromWire(f.guided_json, 'guided_json'))]);
  if (has(f.guided_regex)) out.push(['guided_regex', () => ({ kind: 'regex', pattern: f.guided_regex! })]);
  if (has(f.guided_choice)) out.push(['guided_choice', () => ({ kind: 'choice', choices: f.guided_choice! })]);
  if (has(f.guided_grammar)) out.push(['guided_grammar', () => ({ kind: 'grammar', ebnf: f.guided_grammar! })]);
  return out;
}

/** Names of the structured-output fields a (validated) request sets. */
export function structuredSurfaces(f: StructuredFields): string[] {
  return surfaces(f).map(([name]) => name);
}

/** A constraint and the request field it came from (what a compile error names). */
export interface RequestConstraint {
  constraint: OutputConstraint;
  param: string;
}

/**
 * The one constraint a validated request asks for, with its field, or undefined. Two
 * surfaces at once are a 400 naming both (vLLM: "You can only use one kind of guided decoding").
 */
export function requestConstraint(f: StructuredFields): RequestConstraint | undefined {
  const set = surfaces(f);
  if (set.length > 1) throw invalid(set[1]![0], `'${set[0]![0]}' and '${set[1]![0]}' both constrain the output: send one of them.`);
  if (set.length === 0) return undefined;
  const [name, build] = set[0]!;
  const constraint = build();
  if (constraint === undefined) return undefined;
  const field = name === 'structured_outputs' ? structuredOutputsField(f.structured_outputs!, name) : undefined;
  return { constraint, param: field === undefined ? name : `${name}.${field}` };
}

export function constraintOf(f: StructuredFields): OutputConstraint | undefined {
  return requestConstraint(f)?.constraint;
}
