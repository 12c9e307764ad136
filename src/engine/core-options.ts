// The engine's own options (EngineCore, createEngine), and their one check: a value of the
// wrong type or range is `invalid_request` naming the option, before any model is loaded,
// never a silent fallback (`chainSteps: 'no'` must not chain) or a NaN limit.
import { EngineError } from './errors';

export interface EngineCoreOptions {
  /** Tokens per step; default 512. */
  maxBatchTokens?: number;
  /** Sequences running at once; default 64. */
  maxRunningSequences?: number;
  /** Waiting requests before `queue_full`; default 1024. */
  maxQueue?: number;
  /** Default true. */
  enablePrefixCaching?: boolean;
  /** Caps the model's context length. */
  maxModelLength?: number;
  /** Clock in ms (tests); default `performance.now`. */
  now?: () => number;
  /**
   * Submit the next decode step while this one's ids are read back (sched/chain.ts), where
   * the runner can (`chainsSteps`). Default true; outputs are the same either way.
   */
  chainSteps?: boolean;
}

type Kind = 'positive integer' | 'non-negative integer' | 'boolean' | 'function';

const KINDS: Record<keyof EngineCoreOptions, Kind> = {
  maxBatchTokens: 'positive integer',
  maxRunningSequences: 'positive integer',
  maxQueue: 'non-negative integer',
  enablePrefixCaching: 'boolean',
  maxModelLength: 'positive integer',
  now: 'function',
  chainSteps: 'boolean',
};

function fits(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'positive integer':
      return Number.isSafeInteger(v) && (v as number) >= 1;
    case 'non-negative integer':
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'boolean':
      return typeof v === 'boolean';
    case 'function':
      return typeof v === 'function';
  }
}

/** Throws `invalid_request` (param: the option) for the first option given with a value it cannot take; undefined means the default. */
export function checkEngineCoreOptions(o: EngineCoreOptions): void {
  for (const [key, kind] of Object.entries(KINDS) as [keyof EngineCoreOptions, Kind][]) {
    const v = o[key];
    if (v !== undefined && !fits(kind, v)) {
      // Strings quoted; numbers as JS prints them (JSON would print NaN and Infinity as null).
      const shown = typeof v === 'function' ? 'a function' : typeof v === 'string' ? JSON.stringify(v) : String(v);
      throw new EngineError('invalid_request', `engine option ${key} must be a ${kind}, got ${shown}`, key);
    }
  }
}
