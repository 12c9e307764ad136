#!/usr/bin/env node
// `tabllm` command line (Node). Subcommands arrive with the API issue: `serve`, `run`.
import { VERSION } from '../index';

const [cmd] = process.argv.slice(2);
if (cmd === '--version' || cmd === '-v') {
  console.log(VERSION);
} else {
  console.error(`tabllm ${VERSION}\nusage: tabllm --version`);
  process.exit(cmd ? 2 : 0);
}
