import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs } from '../../../src/cli/args';

describe('parseCliArgs', () => {
  it('parses run with llama2.c-style steps by default', () => {
    expect(parseCliArgs(['run', 'm.gguf', '-p', 'Once upon a time', '-n', '64', '--temperature', '0'])).toEqual({
      command: 'run', model: 'm.gguf', prompt: 'Once upon a time', steps: 64, maxTokens: undefined,
      temperature: 0, topP: 1, seed: undefined, json: false, kvCacheMiB: undefined, precision: undefined,
    });
    expect(parseCliArgs(['run', 'm.gguf'])).toMatchObject({ steps: 256, prompt: '', temperature: 1 });
    expect(parseCliArgs(['run', 'm.gguf', '--max-tokens', '5', '--json', '--seed', '7'])).toMatchObject({ steps: undefined, maxTokens: 5, json: true, seed: 7 });
  });

  it('parses serve with loopback defaults', () => {
    expect(parseCliArgs(['serve', 'https://x/m.gguf'])).toEqual({
      command: 'serve', model: 'https://x/m.gguf', host: '127.0.0.1', port: 8000, name: undefined, kvCacheMiB: undefined, maxBatchTokens: undefined, precision: undefined,
    });
    expect(parseCliArgs(['serve', 'm.gguf', '--port', '0', '--name', 'tiny'])).toMatchObject({ port: 0, name: 'tiny' });
  });

  it('--precision auto|f32|f16 for run and serve', () => {
    expect(parseCliArgs(['run', 'm.gguf', '--precision', 'f32'])).toMatchObject({ precision: 'f32' });
    expect(parseCliArgs(['serve', 'm.gguf', '--precision', 'f16'])).toMatchObject({ precision: 'f16' });
    expect(parseCliArgs(['serve', 'm.gguf', '--precision=auto'])).toMatchObject({ precision: 'auto' });
  });

  it('help and version', () => {
    expect(parseCliArgs([])).toEqual({ command: 'help' });
    expect(parseCliArgs(['--version'])).toEqual({ command: 'version' });
  });

  const bad: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run'], /missing the model/],
    [['run', 'a.gguf', 'b.gguf'], /unexpected argument 'b.gguf'/],
    [['run', 'm.gguf', '-n', 'ten'], /-n must be an integer/],
    [['run', 'm.gguf', '-n', '0'], /-n must be an integer in \[1/],
    [['run', 'm.gguf', '--temperature=-1'], /--temperature must be a number/],
    [['run', 'm.gguf', '--temperature', '-1'], /--temperature/],
    [['run', 'm.gguf', '--top-p', '0'], /--top-p/],
    // The facade's range (src/openai/ranges.ts), checked before the model loads.
    [['run', 'm.gguf', '--temperature', '2.5'], /--temperature/],
    [['run', 'm.gguf', '-n', '3', '--max-tokens', '3'], /not both/],
    [['run', 'm.gguf', '--bogus'], /Unknown option '--bogus'/],
    [['serve', 'm.gguf', '--port', '70000'], /--port must be an integer in \[0, 65535\]/],
    [['serve', 'm.gguf', '--port', ''], /--port/],
    [['serve', 'm.gguf', '-p', 'x'], /Unknown option '-p'/],
    [['serve', 'm.gguf', '--precision', 'f8'], /--precision must be one of auto, f32, f16, got 'f8'/],
    [['run', 'm.gguf', '--precision', ''], /--precision must be one of/],
    [['run', 'm.gguf', '--precision'], /--precision/],
  ];
  it.each(bad)('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});
