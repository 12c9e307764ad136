// The Jinja interpreter with jinja2's default `Undefined` for string filters: in jinja2 (and
// so in transformers' apply_chat_template) `missing|trim` is '' and `missing|length` is 0,
// where @huggingface/jinja throws "Cannot apply filter". Hermes-2-Pro's tool-use template
// prints `param_fields.description|trim` for every parameter, and a parameter without a
// description is the common case, so without this no Hermes prompt with tools renders.
import { Environment, Interpreter } from '@huggingface/jinja';

/** Filters jinja2 runs on str(Undefined) == '': all give '' (or 0 for length). */
const STRING_FILTERS: ReadonlySet<string> = new Set(['trim', 'string', 'upper', 'lower', 'title', 'capitalize', 'length']);

interface FilterNode {
  type: string;
  value?: string;
  callee?: { type: string; value?: string };
}

interface RuntimeValue {
  type: string;
}

type ApplyFilter = (operand: RuntimeValue, filter: FilterNode, environment: Environment) => RuntimeValue;

/** The runtime's empty string value (its value classes are not exported; `set` converts one). */
const EMPTY_STRING = new Environment().set('empty', '') as unknown as RuntimeValue;

function filterName(filter: FilterNode): string | undefined {
  if (filter.type === 'Identifier') return filter.value;
  if (filter.type === 'CallExpression' && filter.callee?.type === 'Identifier') return filter.callee.value;
  return undefined;
}

export class LenientInterpreter extends Interpreter {}

// applyFilter is private in the library's declarations, so it is wrapped on the prototype.
const proto = LenientInterpreter.prototype as unknown as { applyFilter: ApplyFilter };
const applyFilter = (Interpreter.prototype as unknown as { applyFilter: ApplyFilter }).applyFilter;
proto.applyFilter = function (this: Interpreter, operand, filter, environment) {
  const name = filterName(filter);
  const asString = operand.type === 'UndefinedValue' && name !== undefined && STRING_FILTERS.has(name);
  return applyFilter.call(this, asString ? EMPTY_STRING : operand, filter, environment);
};
