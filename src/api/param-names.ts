// Engine errors name chat-completion fields (`messages`, `response_format`); a route whose
// own API spells them differently (Responses' `input` and `text.format`, Ollama's `format`)
// renames them on the way out, so the 400 names what the client sent.
import { EngineError } from '../engine/errors';

export async function renamingParams<T>(names: Readonly<Record<string, string>>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof EngineError && err.param !== undefined && Object.hasOwn(names, err.param)) {
      throw new EngineError(err.code, err.message, names[err.param]);
    }
    throw err;
  }
}
