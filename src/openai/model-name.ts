// Which requested model names name the loaded model: the router's lookup (src/api/context.ts)
// and LocalEngine's own check read this one rule.

/** Model names equal up to Ollama's default tag: `smol` and `smol:latest` name one model. */
export function sameModel(requested: string, id: string): boolean {
  const strip = (name: string) => (name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name);
  return requested === id || strip(requested) === strip(id);
}
