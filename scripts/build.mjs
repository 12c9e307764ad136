#!/usr/bin/env node
// `npm run build`: the library bundle (Vite, ESM; WGSL inlined), the service worker as one
// self-contained file, and type declarations (tsc).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
for (const [cmd, args] of [
  ['npx', ['vite', 'build', '--logLevel', 'warn']],
  ['npx', ['vite', 'build', '--mode', 'sw', '--logLevel', 'warn']],
  ['npx', ['tsc', '-p', 'tsconfig.build.json']],
]) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// Sites copy dist/worker/sw.js alone to their root: an import of a library chunk would 404.
const sw = readFileSync('dist/worker/sw.js', 'utf8');
if (/^\s*(import|export)\b[^\n]*\bfrom\s*["']|\bimport\s*\(/m.test(sw)) {
  console.error('dist/worker/sw.js imports another file; the service worker must build alone');
  process.exit(1);
}
console.log('built dist/');
