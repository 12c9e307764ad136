// Flow inputs: each declared input from the given value (converted to its declared type, as
// PromptFlow converts CLI and data strings), else its default, else an error naming it.
import type { FlowDefinition, FlowInputType } from './definition';
import { FlowError } from './errors';

export function resolveFlowInputs(def: FlowDefinition, given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(def.inputs)) {
    if (given[name] !== undefined) out[name] = convertInput(name, input.type, given[name], def.file);
    else if (input.hasDefault) out[name] = input.default ?? null;
    else throw new FlowError('missing_input', `the flow input '${name}' is required (it has no default)`, { file: def.file });
  }
  return out;
}

function convertInput(name: string, type: FlowInputType, value: unknown, file: string): unknown {
  const bad = () => new FlowError('bad_input_type', `the flow input '${name}' must be of type ${type}, got ${JSON.stringify(value)?.slice(0, 60)}`, { file });
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    case 'int':
    case 'double': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) throw bad();
      return n;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      throw bad();
    case 'list':
    case 'object': {
      let v = value;
      if (typeof v === 'string') {
        try {
          v = JSON.parse(v);
        } catch {
          throw bad();
        }
      }
      if (type === 'list' ? !Array.isArray(v) : v === null || typeof v !== 'object' || Array.isArray(v)) throw bad();
      return v;
    }
  }
}
