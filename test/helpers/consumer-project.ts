// A consumer's project, made the way a user makes one: `npm pack` of this repository (its
// built `dist/`, so `npm run build` first), then a fresh folder outside the repository with
// its own package.json, the tarball and the consumer's other packages installed by npm.
//
// The other packages are installed at the versions this repository's lockfile holds, with
// `--prefer-offline`, so npm takes them from the cache `npm ci` filled and the install needs
// no registry round trip for them.
//
// Also here: starting a server in the project (vite preview / dev) and stopping it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let tarball: string | undefined;

export interface Spawned {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000, env: NodeJS.ProcessEnv = process.env): Spawned {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

function must(r: Spawned, what: string): Spawned {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r;
}

/** `npm pack` of this repository, once per process; the path of the `.tgz`. */
export function packTarball(): string {
  if (tarball) return tarball;
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` before the consumer tests');
  const dest = mkdtempSync(join(tmpdir(), 'tabllm-pack-'));
  must(run('npm', ['pack', '--silent', '--pack-destination', dest], PROJECT_ROOT), 'npm pack');
  const file = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!file) throw new Error(`npm pack wrote no tarball into ${dest}`);
  tarball = join(dest, file);
  return tarball;
}

/** The version of `name` this repository has installed (so the consumer's install hits npm's cache). */
export function lockedVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export interface ConsumerProject {
  dir: string;
  /** Runs a command in the project (e.g. `npx`, `['tabllm', 'run', …]`). */
  run(cmd: string, args: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Spawned;
  /** Writes a file relative to the project. */
  write(path: string, text: string): void;
  remove(): void;
}

export interface ConsumerOptions {
  /** Packages besides tabllm, by name; installed at this repository's versions. */
  deps?: string[];
  /** Files to write before the install, relative to the project. */
  files?: Record<string, string>;
  /** Extra package.json fields (scripts, …). */
  packageJson?: Record<string, unknown>;
}

/** A fresh project in a temporary folder with the packed tabllm and `deps` installed. */
export function createConsumerProject(options: ConsumerOptions = {}): ConsumerProject {
  const dir = mkdtempSync(join(tmpdir(), 'tabllm-consumer-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('package.json', `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', ...options.packageJson }, null, 2)}\n`);
  for (const [path, text] of Object.entries(options.files ?? {})) write(path, text);
  const specs = [packTarball(), ...(options.deps ?? []).map((d) => `${d}@${lockedVersion(d)}`)];
  must(run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], dir), 'npm install in the consumer project');
  return {
    dir,
    write,
    run: (cmd, args, o = {}) => run(cmd, args, dir, o.timeoutMs, o.env ?? process.env),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts `cmd` in the project and resolves once its output matches `ready` (its match returned). */
export function startProcess(project: ConsumerProject, cmd: string, args: string[], ready: RegExp): { child: ChildProcess; matched: Promise<RegExpMatchArray>; output: () => string } {
  // Its own process group, so stopping it also stops what npx started.
  // CI=true makes Vite's colour library colour its output even into a pipe (the port then sits
  // between escape codes): ask for none, and strip any that still come.
  const child = spawn(cmd, args, { cwd: project.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const matched = new Promise<RegExpMatchArray>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString().replace(/\x1b\[[0-9;]*m/g, '');
      const m = output.match(ready);
      if (m) resolve(m);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited ${code} before it was ready:\n${output}`)));
  });
  matched.catch(() => {});
  return { child, matched, output: () => output };
}

/** Stops a process startProcess started, and what it started (its process group). */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

/** The vite binary of the consumer project (one process, so stopping it stops the server). */
export const viteBin = (project: ConsumerProject) => join(project.dir, 'node_modules/vite/bin/vite.js');
