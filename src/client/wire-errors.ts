// Errors across postMessage: structured clone drops an Error's class and its `code`,
// so errors travel as plain records and are rebuilt on the other side with their class
// (EngineError, GGUFError, …) and code intact.
import { EngineError, type EngineErrorCode } from '../engine/errors';
import { GpuError } from '../gpu/device';
import { GGUFError } from '../model/gguf/errors';
import { ModelConfigError } from '../model/config-parse';
import { TemplateError } from '../model/template/errors';
import { TokenizerError } from '../model/tokenizer/errors';
import { StorageError } from '../storage/errors';

export interface WireError {
  __tabllmError: true;
  name: string;
  message: string;
  code?: string;
  param?: string;
  stack?: string;
  /** The error's other own fields that survive structured clone (offset, bytesNeeded, key, …). */
  data?: Record<string, string | number | boolean>;
}

type ErrorCtor = (e: WireError) => Error;

const rebuilders = new Map<string, ErrorCtor>([
  ['EngineError', (e) => new EngineError((e.code ?? 'internal_error') as EngineErrorCode, e.message, e.param)],
  ['AbortError', (e) => new EngineError('aborted', e.message)],
]);

/** Lets other layers (GGUF, tokenizer, GPU) have their error classes rebuilt on the far side. */
export function registerWireError(name: string, rebuild: ErrorCtor): void {
  rebuilders.set(name, rebuild);
}

/** Rebuilds an instance of `ctor` without calling its constructor (whose message formatting would run twice). */
function byPrototype(ctor: { prototype: Error }): ErrorCtor {
  return (w) => {
    const err = Object.create(ctor.prototype) as Error & Record<string, unknown>;
    Object.defineProperty(err, 'message', { value: w.message, writable: true, configurable: true });
    Object.defineProperty(err, 'name', { value: w.name, writable: true, configurable: true });
    if (w.code !== undefined) Object.defineProperty(err, 'code', { value: w.code, enumerable: true, configurable: true });
    for (const [k, v] of Object.entries(w.data ?? {})) Object.defineProperty(err, k, { value: v, enumerable: true, configurable: true });
    return err;
  };
}

// Keyed by each class's `name` field, spelled out: a minifier may rename the classes themselves.
const CLASSES: [string, { prototype: Error }][] = [
  ['GGUFError', GGUFError], ['TokenizerError', TokenizerError], ['ModelConfigError', ModelConfigError],
  ['TemplateError', TemplateError], ['StorageError', StorageError], ['GpuError', GpuError],
];
for (const [name, ctor] of CLASSES) rebuilders.set(name, byPrototype(ctor));

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; param?: unknown };
    return {
      __tabllmError: true,
      name: e.name,
      message: e.message,
      code: typeof e.code === 'string' ? e.code : undefined,
      param: typeof e.param === 'string' ? e.param : undefined,
      stack: e.stack,
      data: plainFields(e),
    };
  }
  return { __tabllmError: true, name: 'Error', message: String(err) };
}

function plainFields(e: object): Record<string, string | number | boolean> | undefined {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'code' || k === 'param' || k === 'name' || k === 'message') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

export function fromWireError(w: WireError): Error {
  const rebuild = rebuilders.get(w.name);
  const err: Error & { code?: string; param?: string } = rebuild ? rebuild(w) : new Error(w.message);
  if (!rebuild) {
    err.name = w.name;
    if (w.code !== undefined) err.code = w.code;
    if (w.param !== undefined) err.param = w.param;
  }
  if (w.stack) err.stack = w.stack;
  return err;
}
