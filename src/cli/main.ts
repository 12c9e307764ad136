#!/usr/bin/env node
// `tabllm` command line (Node; WebGPU through the `webgpu` package, Dawn).
import { existsSync } from 'node:fs';
import { createEngine } from '../create-engine';
import { EngineError } from '../engine/errors';
import { createNodeGPU } from '../gpu/node-gpu';
import { VERSION } from '../index';
import { CliUsageError, parseCliArgs, USAGE } from './args';
import { runCommand, serveCommand, type CliIO, type EngineFactory } from './commands';
import { flowCommand } from './flow-command';

const io: CliIO = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

async function main(argv: string[]): Promise<number> {
  const args = parseCliArgs(argv, process.env);
  if (args.command === 'help') {
    io.stdout(`tabllm ${VERSION}\n${USAGE}\n`);
    return 0;
  }
  if (args.command === 'version') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  if (args.model !== undefined && !isUrl(args.model) && !existsSync(args.model)) throw new CliUsageError(`model file not found: ${args.model}`);
  // The GPU is opened inside the factory: `serve` binds its port before it loads anything.
  const factory: EngineFactory = async (options) => createEngine({ ...options, gpu: await createNodeGPU() });
  if (args.command === 'run') return runCommand(args, factory, io);
  if (args.command === 'flow') return flowCommand(args, factory, io);
  const server = await serveCommand(args, factory, io);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      io.stderr(`\n${signal}: shutting down (in-flight requests get 5 s to finish)\n`);
      void server.close(5000).then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CliUsageError) {
      io.stderr(`tabllm: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    const e = err as Error & { code?: string };
    const code = e.code ? ` [${e.code}]` : '';
    io.stderr(`tabllm: ${e.message ?? String(err)}${code}\n`);
    process.exit(err instanceof EngineError && err.code === 'device_lost' ? 3 : 1);
  },
);
