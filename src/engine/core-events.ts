// What EngineCore hands back (core.ts re-exports it all): each request's stream of events,
// its last event's usage and timings, and the engine's stats.
import { EventStream } from './event-stream';
import type { FinishReason } from './stop';
import type { SampledToken } from './types';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the prefix cache (full blocks only). */
  cachedTokens: number;
}

export interface RequestTimings {
  /** Arrival to first scheduled step. */
  queueMs: number;
  /** Arrival to first output token. */
  ttftMs: number;
  /** Output tokens after the first, per second of decoding. */
  decodeTokensPerSecond: number;
}

/** One streamed delta of one choice. The request's last event carries `usage` and `timings`. */
export interface EngineEvent {
  /** Choice index (0..n-1). */
  index: number;
  /** Tokens sampled for this choice in this event (empty on an abort). */
  tokenIds: number[];
  /** Text that became final ('' while text is held back for a possible stop string). */
  text: string;
  /** The sampled tokens with their logprobs, when the request asked for logprobs. */
  logprobs?: SampledToken[];
  finishReason?: FinishReason;
  usage?: Usage;
  timings?: RequestTimings;
}

export class RequestStream extends EventStream<EngineEvent> {
  constructor(
    readonly requestId: string,
    onCancel: () => void,
  ) {
    super(onCancel);
  }
}

export interface EngineCoreStats {
  /** Requests with a sequence running. */
  running: number;
  runningSequences: number;
  /** Requests waiting (none of their sequences running). */
  waiting: number;
  kvBlocksUsed: number;
  kvBlocksTotal: number;
  /** Prompt tokens served from the prefix cache / prompt tokens looked up (0..1). */
  prefixCacheHitRate: number;
  /** Tokens in the last step's batch. */
  lastStepBatchSize: number;
  /** The most tokens in one step among the steps of the last ~2 s. */
  peakStepBatchSize: number;
  lastStepSequences: number;
  lastStepMs: number;
  /** Output tokens per second over the last ~2 s of steps. */
  tokensPerSecond: number;
  numPreemptions: number;
  numSteps: number;
  /** KV slots of running sequences' blocks that hold a computed token / all their slots. */
  kvSlotsFilled: number;
  kvSlotsAllocated: number;
}
