// The value checks every `tabllm` subcommand's parser shares: the usage error (exit code 2),
// Node's parseArgs with its errors turned into that usage error, numbers in a range, and
// `--precision`. Kept apart so the subcommand parsers import it and not each other.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class CliUsageError extends Error {
  readonly code = 'usage';
}

/** The values and positionals of a strict parse of `args`. */
export interface ParsedFlags {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/** Node's strict parseArgs; an unknown flag or a missing value is a CliUsageError starting with `prefix`. */
export function parseFlags(args: string[], options: NonNullable<ParseArgsConfig['options']>, prefix: string): ParsedFlags {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as ParsedFlags;
  } catch (err) {
    throw new CliUsageError(prefix + (err as Error).message);
  }
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
