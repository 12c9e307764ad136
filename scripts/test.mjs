#!/usr/bin/env node
// `npm test`: runs the unit, gpu and e2e tiers with vitest and ends with one line
// `N passed, M failed[, K skipped]` summed over every tier (the line CI reads).
// Usage: npm test [-- --project unit] [-- <vitest filters>]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { gpuChildEnv } from './gpu-env.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = gpuChildEnv();

const outDir = join(tmpdir(), `tabllm-test-${process.pid}`);
mkdirSync(outDir, { recursive: true });
const userArgs = process.argv.slice(2);
const projects = userArgs.includes('--project') ? [] : ['unit', 'gpu', 'e2e'];
const runs = projects.length ? projects.map((p) => ['--project', p]) : [[]];

let passed = 0, failed = 0, skipped = 0, crashed = 0;
for (const [i, sel] of runs.entries()) {
  const json = join(outDir, `run-${i}.json`);
  const args = ['vitest', 'run', ...sel, ...userArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`];
  const r = spawnSync('npx', args, { stdio: 'inherit', env });
  if (!existsSync(json)) {
    // No report: the runner itself failed (a syntax error, a crash). Count it as a failure.
    console.error(`vitest ${sel.join(' ')} produced no report (exit ${r.status})`);
    crashed++;
    continue;
  }
  const report = JSON.parse(readFileSync(json, 'utf8'));
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) crashed++; // a file that failed to load
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') failed++;
      else skipped++;
    }
  }
  if (r.status !== 0 && report.numFailedTests === 0 && report.numFailedTestSuites === 0) crashed++;
}
rmSync(outDir, { recursive: true, force: true });
failed += crashed;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
