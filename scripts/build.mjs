#!/usr/bin/env node
// `npm run build`: the library bundle (Vite, ESM; WGSL inlined) and type declarations (tsc).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
for (const [cmd, args] of [
  ['npx', ['vite', 'build', '--logLevel', 'warn']],
  ['npx', ['tsc', '-p', 'tsconfig.build.json']],
]) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log('built dist/');
