// JSON schemas for the constrained-decoding tests and bench: each construct XGrammar supports
// (nested objects, arrays with minItems/maxItems, enums, const, anyOf, $ref/$defs, patterns,
// formats, integer/number bounds, required vs optional, additionalProperties false).
// XGrammar 0.1.27 writes some bounds wrong (maximum 120 admits 121..129; a number in [0, 1]
// admits 1.5): integer and number bounds are ours (src/grammar/json-bounds.ts,
// json-number-bounds.ts). `bounded` marks schemas whose every output is short whatever the model
// prefers (enums, bounded numbers, maxLength strings): a greedy random model cannot run them
// into max_tokens.
import Ajv from 'ajv';

export interface SchemaCase {
  name: string;
  schema: object;
  bounded?: boolean;
}

const shortString = { type: 'string', maxLength: 6 };

export const SCHEMA_CASES: SchemaCase[] = [
  { name: 'boolean', schema: { type: 'boolean' }, bounded: true },
  { name: 'null', schema: { type: 'null' }, bounded: true },
  { name: 'enum of strings', schema: { enum: ['red', 'green', 'blue'] }, bounded: true },
  { name: 'mixed enum', schema: { enum: ['a', 1, true, null] }, bounded: true },
  { name: 'const', schema: { const: 'fixed' }, bounded: true },
  { name: 'bounded integer', schema: { type: 'integer', minimum: 1, maximum: 99 }, bounded: true },
  { name: 'negative integer range', schema: { type: 'integer', minimum: -50, maximum: -3 }, bounded: true },
  { name: 'exclusive bounds', schema: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 10 }, bounded: true },
  { name: 'integer bounds XGrammar writes wrong', schema: { type: 'integer', minimum: 100, maximum: 120 }, bounded: true },
  { name: 'integer', schema: { type: 'integer' } },
  { name: 'number', schema: { type: 'number' } },
  { name: 'number bounds XGrammar writes wrong', schema: { type: 'number', minimum: 0, maximum: 1 }, bounded: true },
  { name: 'number decimal and exclusive bounds', schema: { type: 'number', minimum: -0.5, exclusiveMaximum: 2.25 }, bounded: true },
  { name: 'short string', schema: shortString, bounded: true },
  { name: 'string length range', schema: { type: 'string', minLength: 2, maxLength: 4 }, bounded: true },
  { name: 'string pattern', schema: { type: 'string', pattern: '^[a-z]{2,5}-[0-9]{1,3}$' }, bounded: true },
  { name: 'format date', schema: { type: 'string', format: 'date' }, bounded: true },
  { name: 'format uuid', schema: { type: 'string', format: 'uuid' }, bounded: true },
  { name: 'format ipv4', schema: { type: 'string', format: 'ipv4' }, bounded: true },
  { name: 'string', schema: { type: 'string' } },
  {
    name: 'flat object, all required',
    schema: { type: 'object', properties: { name: shortString, age: { type: 'integer', minimum: 0, maximum: 99 } }, required: ['name', 'age'], additionalProperties: false },
    bounded: true,
  },
  {
    name: 'optional properties',
    schema: { type: 'object', properties: { a: { type: 'boolean' }, b: { enum: [1, 2] }, c: shortString }, required: ['a'], additionalProperties: false },
    bounded: true,
  },
  { name: 'empty object', schema: { type: 'object', properties: {}, additionalProperties: false }, bounded: true },
  {
    name: 'nested objects',
    schema: {
      type: 'object',
      properties: { user: { type: 'object', properties: { id: { type: 'integer', minimum: 0, maximum: 9 }, tags: { type: 'object', properties: { x: { type: 'boolean' } }, required: ['x'], additionalProperties: false } }, required: ['id', 'tags'], additionalProperties: false } },
      required: ['user'],
      additionalProperties: false,
    },
    bounded: true,
  },
  { name: 'array of booleans 1..3', schema: { type: 'array', items: { type: 'boolean' }, minItems: 1, maxItems: 3 }, bounded: true },
  { name: 'array exactly 2', schema: { type: 'array', items: { enum: ['x', 'y'] }, minItems: 2, maxItems: 2 }, bounded: true },
  { name: 'array of objects', schema: { type: 'array', items: { type: 'object', properties: { k: { type: 'integer', minimum: 0, maximum: 5 } }, required: ['k'], additionalProperties: false }, maxItems: 2 }, bounded: true },
  { name: 'array of strings', schema: { type: 'array', items: { type: 'string' }, maxItems: 3 } },
  { name: 'anyOf', schema: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0, maximum: 3 }, { const: 'none' }] }, bounded: true },
  {
    name: 'anyOf objects',
    schema: {
      anyOf: [
        { type: 'object', properties: { kind: { const: 'a' }, v: { type: 'boolean' } }, required: ['kind', 'v'], additionalProperties: false },
        { type: 'object', properties: { kind: { const: 'b' }, n: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['kind', 'n'], additionalProperties: false },
      ],
    },
    bounded: true,
  },
  {
    name: '$ref/$defs',
    schema: {
      $defs: { point: { type: 'object', properties: { x: { type: 'integer', minimum: 0, maximum: 9 }, y: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['x', 'y'], additionalProperties: false } },
      type: 'object',
      properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' } },
      required: ['from', 'to'],
      additionalProperties: false,
    },
    bounded: true,
  },
  {
    name: 'recursive $ref (tree)',
    schema: {
      $defs: { node: { type: 'object', properties: { v: { type: 'boolean' }, kids: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 1 } }, required: ['v'], additionalProperties: false } },
      $ref: '#/$defs/node',
    },
  },
  { name: 'additionalProperties allowed', schema: { type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] } },
  { name: 'nullable (type array)', schema: { type: ['integer', 'null'], minimum: 0, maximum: 9 }, bounded: true },
  {
    name: 'person',
    schema: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 8 },
        email: { type: 'string', pattern: '^[a-z]{1,5}@[a-z]{1,5}\\.com$' },
        role: { enum: ['admin', 'user'] },
        score: { type: 'number' },
        birthday: { type: 'string', format: 'date' },
      },
      required: ['name', 'role'],
      additionalProperties: false,
    },
  },
  { name: 'json object (any)', schema: { type: 'object' } },
];

/** ajv with the formats the cases use (ajv-formats is not a dependency; date and uuid mirror its checks). */
export function makeAjv(): Ajv {
  const ajv = new Ajv({ strict: false });
  ajv.addFormat('date', /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  // XGrammar's ipv4 admits leading zeros ("08"), which ajv-formats refuses: its definition is checked.
  ajv.addFormat('ipv4', /^((25[0-5]|2[0-4]\d|[01]?\d?\d)\.){3}(25[0-5]|2[0-4]\d|[01]?\d?\d)$/);
  return ajv;
}
