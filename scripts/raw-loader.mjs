// Node module hooks so scripts run with tsx can import `./x.wgsl?raw` (or `pkg/file.js?raw`) like Vite does:
//   node --import tsx --import ./scripts/raw-loader.mjs bench/foo.ts
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { readFile } from 'node:fs/promises';
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('?raw')) {
    // A package file (bare specifier) resolves as the package says; a relative one against its importer.
    const bare = !(specifier.startsWith('.') || specifier.startsWith('/') || specifier.includes(':'));
    const href = bare ? (await next(specifier.slice(0, -4), context)).url + '?raw' : new URL(specifier, context.parentURL).href;
    return { url: href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url.endsWith('?raw')) {
    const text = await readFile(new URL(url.slice(0, -4)), 'utf8');
    return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
  }
  return next(url, context);
}
`),
  import.meta.url,
);
