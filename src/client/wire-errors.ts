// Errors across postMessage: structured clone drops an Error's class and its `code`,
// so errors travel as plain records and are rebuilt on the other side with their class
// (EngineError, GGUFError, …) and code intact.
import { EngineError, type EngineErrorCode } from '../engine/errors';

export interface WireError {
  __tabllmError: true;
  name: string;
  message: string;
  code?: string;
  param?: string;
  stack?: string;
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
    };
  }
  return { __tabllmError: true, name: 'Error', message: String(err) };
}

export function isWireError(v: unknown): v is WireError {
  return typeof v === 'object' && v !== null && (v as WireError).__tabllmError === true;
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
