// What a constrained request's output must match, in the grammar engine's terms, its cache key,
// and the bounds every constraint is checked against before XGrammar sees it (XGrammar's
// converters recurse on nesting, and a C++ stack overflow inside the wasm is not an error we
// could report). The facade maps each API's surface onto one of these (src/engine/request.ts
// re-exports the type as `OutputConstraint`).
import { GrammarError } from './errors';

export type OutputConstraint =
  /** Any JSON object (OpenAI `json_object`, Ollama `format: 'json'`). */
  | { kind: 'json_object' }
  /** JSON text valid against `schema` (a JSON Schema, as JSON text). */
  | { kind: 'json_schema'; schema: string; strict?: boolean }
  | { kind: 'regex'; pattern: string }
  /** Exactly one of the strings. */
  | { kind: 'choice'; choices: readonly string[] }
  /** An EBNF grammar (GBNF-style, as XGrammar reads it), with `root` as the start rule. */
  | { kind: 'grammar'; ebnf: string }
  /** An XGrammar structural tag (JSON text): free text with constrained tagged regions (tool calls). */
  | { kind: 'structural_tag'; tag: string };

/** Characters of a schema, pattern, grammar or tag (the choices together). */
export const MAX_CONSTRAINT_CHARS = 256 * 1024;
/** Brackets / parentheses open at once in a schema, pattern or grammar. */
export const MAX_CONSTRAINT_DEPTH = 64;
export const MAX_CHOICES = 4096;

/** The parameter name errors carry for each kind (the facade may name its own surface instead). */
const PARAM: Record<OutputConstraint['kind'], string> = {
  json_object: 'response_format',
  json_schema: 'response_format',
  regex: 'guided_regex',
  choice: 'guided_choice',
  grammar: 'guided_grammar',
  structural_tag: 'structural_tag',
};

export function constraintParam(c: OutputConstraint): string {
  return PARAM[c.kind] ?? 'response_format';
}

function invalid(c: OutputConstraint, message: string): GrammarError {
  return new GrammarError('invalid_grammar', message, constraintParam(c));
}

/** Deepest bracket nesting of `text`, skipping quoted strings (JSON, EBNF) and escaped characters (regex). */
export function nestingDepth(text: string, open: string, close: string, quote: string | null): number {
  let depth = 0;
  let deepest = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (quote !== null && ch === quote) inQuote = !inQuote;
    if (inQuote) continue;
    if (open.includes(ch)) deepest = Math.max(deepest, ++depth);
    else if (close.includes(ch)) depth--;
  }
  return deepest;
}

/**
 * Checks a constraint's shape and bounds (a GrammarError `invalid_grammar` naming what is
 * wrong) and returns its cache key. JSON texts are parsed here, so a broken schema never
 * reaches the wasm (where every error aborts the instance).
 */
export function checkConstraint(c: OutputConstraint): string {
  if (c === null || typeof c !== 'object' || typeof c.kind !== 'string' || !(c.kind in PARAM)) {
    throw new GrammarError('invalid_grammar', `unknown constraint kind ${JSON.stringify((c as { kind?: unknown })?.kind)}`, 'response_format');
  }
  const text = (field: string, value: unknown): string => {
    if (typeof value !== 'string') throw invalid(c, `the ${field} must be a string`);
    if (value.length > MAX_CONSTRAINT_CHARS) throw invalid(c, `the ${field} has ${value.length} characters; at most ${MAX_CONSTRAINT_CHARS} are accepted`);
    return value;
  };
  const depth = (field: string, value: string, open: string, close: string, quote: string | null): void => {
    const d = nestingDepth(value, open, close, quote);
    if (d > MAX_CONSTRAINT_DEPTH) throw invalid(c, `the ${field} nests ${d} levels deep; at most ${MAX_CONSTRAINT_DEPTH} are accepted`);
  };
  const json = (field: string, value: string): void => {
    depth(field, value, '[{', ']}', '"');
    try {
      JSON.parse(value);
    } catch (err) {
      throw invalid(c, `the ${field} is not valid JSON: ${(err as Error).message}`);
    }
  };
  switch (c.kind) {
    case 'json_object':
      return 'json_object';
    case 'json_schema': {
      const schema = text('JSON schema', c.schema);
      json('JSON schema', schema);
      const parsed = JSON.parse(schema) as unknown;
      if (typeof parsed !== 'object' && typeof parsed !== 'boolean') throw invalid(c, 'the JSON schema must be an object (or true/false)');
      return `json_schema\0${schema}`;
    }
    case 'regex': {
      const pattern = text('regex', c.pattern);
      depth('regex', pattern, '([', ')]', null);
      return `regex\0${pattern}`;
    }
    case 'grammar': {
      const ebnf = text('grammar', c.ebnf);
      depth('grammar', ebnf, '([', ')]', '"');
      return `grammar\0${ebnf}`;
    }
    case 'structural_tag': {
      const tag = text('structural tag', c.tag);
      json('structural tag', tag);
      return `structural_tag\0${tag}`;
    }
    case 'choice': {
      const choices = c.choices;
      if (!Array.isArray(choices) || choices.length === 0) throw invalid(c, 'choice needs a non-empty array of strings');
      if (choices.length > MAX_CHOICES) throw invalid(c, `choice has ${choices.length} strings; at most ${MAX_CHOICES} are accepted`);
      let total = 0;
      for (const s of choices) {
        if (typeof s !== 'string' || s.length === 0) throw invalid(c, 'every choice must be a non-empty string');
        total += s.length;
      }
      if (total > MAX_CONSTRAINT_CHARS) throw invalid(c, `the choices have ${total} characters together; at most ${MAX_CONSTRAINT_CHARS} are accepted`);
      return `choice\0${JSON.stringify(choices)}`;
    }
  }
}

/** An EBNF string literal for `s`: quotes, backslashes and control characters escaped. */
export function ebnfString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The EBNF grammar of `choice`: exactly one of the strings. */
export function choiceGrammar(choices: readonly string[]): string {
  return `root ::= ${choices.map(ebnfString).join(' | ')}`;
}
