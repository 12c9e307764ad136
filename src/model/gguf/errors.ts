// GGUF errors: one class with a string `code`, so callers (and the worker boundary) can
// branch on the failure without parsing messages.
import type { DownloadErrorCode } from './timed-fetch';

export type GGUFErrorCode =
  | 'bad_magic'
  | 'unsupported_version'
  | 'truncated'
  | 'bad_count'
  | 'tensor_out_of_bounds'
  | 'unknown_tensor_type'
  | 'bad_string'
  | 'bad_value_type'
  | 'bad_alignment'
  | 'overlapping_tensors'
  | 'misaligned_tensor'
  | 'bad_shape'
  | 'duplicate_key'
  | 'duplicate_tensor'
  | 'bad_metadata'
  | 'bad_tensor_data'
  | 'unsupported_tensor_type'
  | 'range_not_supported'
  | 'fetch_failed'
  /** An HTTP download stalled, or its sizes disagree (see timed-fetch.ts). */
  | DownloadErrorCode
  /** A local model path that is a FIFO, a device, a socket or a directory. */
  | 'not_a_regular_file'
  /** A weight tensor holds NaN or ±Inf (an element, or a quant block's scale): see finite.ts. */
  | 'invalid_weights'
  | 'bad_source';

export class GGUFError extends Error {
  override readonly name = 'GGUFError';
  readonly code: GGUFErrorCode;
  /** Absolute byte offset in the file where the problem was found, when it is known. */
  readonly offset: number | undefined;

  constructor(code: GGUFErrorCode, message: string, offset?: number) {
    super(offset === undefined ? `${code}: ${message}` : `${code}: ${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}
