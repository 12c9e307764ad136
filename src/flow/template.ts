// Jinja2 rendering for llm, prompt and prompty nodes, through @huggingface/jinja (trim_blocks
// as PromptFlow renders; it also lstrips blocks, which only changes indented `{% %}` lines).
// Undefined variables render empty, as Jinja2's default Undefined does.
import { Template } from '@huggingface/jinja';
import { FlowError } from './errors';

const cache = new Map<string, Template>();
const CACHE_MAX = 256;

export function renderTemplate(source: string, vars: Record<string, unknown>, where: { file?: string; node?: string }): string {
  let template = cache.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (err) {
      throw new FlowError('template_error', `the Jinja2 template does not parse: ${(err as Error).message}`, where);
    }
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(source, template);
  }
  try {
    return template.render(vars);
  } catch (err) {
    throw new FlowError('template_error', `the Jinja2 template failed to render: ${(err as Error).message}`, where);
  }
}
