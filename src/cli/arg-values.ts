// The value checks every `tabllm` subcommand's parser shares: the usage error (exit code 2),
// numbers in a range, and `--precision`. Kept apart so the subcommand parsers import it
// and not each other.

export class CliUsageError extends Error {
  readonly code = 'usage';
}

/** `--precision`: the KV cache's element type ('auto': f16 where the adapter has shader-f16). */
export type CliPrecision = 'auto' | 'f32' | 'f16';
const PRECISIONS: readonly CliPrecision[] = ['auto', 'f32', 'f16'];

export function num(flag: string, raw: string | undefined, opts: { min: number; max: number; integer?: boolean }): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < opts.min || v > opts.max || (opts.integer && !Number.isInteger(v))) {
    throw new CliUsageError(`${flag} must be ${opts.integer ? 'an integer' : 'a number'} in [${opts.min}, ${opts.max}], got '${raw}'`);
  }
  return v;
}

/** `--precision`'s value, checked (undefined when the flag is absent). */
export function precisionArg(raw: string | undefined): CliPrecision | undefined {
  if (raw !== undefined && !PRECISIONS.includes(raw as CliPrecision)) {
    throw new CliUsageError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${raw}'`);
  }
  return raw as CliPrecision | undefined;
}
