// `serve`'s access flags: --allow-origin / --allow-host (repeatable), --api-key,
// --request-timeout, and the TABLLM_ORIGINS / TABLLM_API_KEY environment; bad values are
// usage errors (exit 2) naming the flag or variable, caught before the model loads.
import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs, type CliEnv } from '../../../src/cli/args';

const serve = (flags: string[], env: CliEnv = {}) => parseCliArgs(['serve', 'm.gguf', ...flags], env);

describe('serve access flags', () => {
  it('are off by default', () => {
    expect(serve([])).toMatchObject({ allowOrigins: undefined, allowHosts: undefined, apiKey: undefined, requestTimeoutS: undefined });
  });

  it('collect repeated --allow-origin then TABLLM_ORIGINS, and repeated --allow-host', () => {
    expect(serve(['--allow-origin', 'https://a.test', '--allow-origin=*', '--allow-host', 'mybox.lan', '--allow-host', 'nas.lan'], { TABLLM_ORIGINS: 'https://b.test,null' })).toMatchObject({
      allowOrigins: ['https://a.test', '*', 'https://b.test', 'null'],
      allowHosts: ['mybox.lan', 'nas.lan'],
    });
  });

  it('--api-key wins over TABLLM_API_KEY; an empty variable is unset', () => {
    expect(serve(['--api-key', 'sk-flag'], { TABLLM_API_KEY: 'sk-env' })).toMatchObject({ apiKey: 'sk-flag' });
    expect(serve([], { TABLLM_API_KEY: 'sk-env' })).toMatchObject({ apiKey: 'sk-env' });
    expect(serve([], { TABLLM_API_KEY: '' })).toMatchObject({ apiKey: undefined });
  });

  it('--request-timeout takes seconds', () => {
    expect(serve(['--request-timeout', '90'])).toMatchObject({ requestTimeoutS: 90 });
    expect(serve(['--request-timeout', '0.25'])).toMatchObject({ requestTimeoutS: 0.25 });
  });

  const bad: [string[], CliEnv, RegExp][] = [
    [['--allow-origin', 'evil.test'], {}, /--allow-origin: not an origin: 'evil.test'/],
    [['--allow-origin', 'https://a.test/path'], {}, /--allow-origin: not an origin/],
    [[], { TABLLM_ORIGINS: 'https://ok.test,ftp//x' }, /TABLLM_ORIGINS: not an origin: 'ftp\/\/x'/],
    [['--allow-host', 'mybox.lan:8000'], {}, /--allow-host: not a host name: 'mybox.lan:8000'/],
    [['--api-key', ''], {}, /--api-key: the API key must be non-empty printable ASCII/],
    [['--api-key', 'two words'], {}, /--api-key: the API key must be/],
    [[], { TABLLM_API_KEY: 'k\u00e9y' }, /TABLLM_API_KEY: the API key must be/],
    [['--request-timeout', '0'], {}, /--request-timeout must be a number in/],
    [['--request-timeout', 'soon'], {}, /--request-timeout must be a number/],
    [['--api-key'], {}, /--api-key/],
  ];
  it.each(bad)('rejects %j %j', (flags, env, message) => {
    expect(() => serve(flags, env)).toThrowError(CliUsageError);
    expect(() => serve(flags, env)).toThrowError(message);
  });

  it('run has none of them', () => {
    expect(() => parseCliArgs(['run', 'm.gguf', '--api-key', 'k'])).toThrowError(/Unknown option '--api-key'/);
  });
});
