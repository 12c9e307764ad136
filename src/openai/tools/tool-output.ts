// A choice's answer with tool calls in OpenAI's shapes: the parser's pieces → stream
// deltas (a call's first delta has index, id, type and name with empty arguments; later
// ones append to `arguments`), and the whole answer → `message.content` / `tool_calls`.
// `finish_reason` is `tool_calls` when the answer holds calls and ended on its own.
import type { ChatCompletionChunkToolCall, ChatCompletionMessageToolCall, FinishReason } from '../engine-api';
import type { ToolCallPiece } from './call-parser';

export type ChoiceDelta = { content: string } | { tool_calls: ChatCompletionChunkToolCall[] };

export function pieceDelta(piece: ToolCallPiece): ChoiceDelta {
  if (piece.type === 'content') return { content: piece.text };
  if (piece.type === 'call_start') {
    return { tool_calls: [{ index: piece.index, id: piece.id, type: 'function', function: { name: piece.name, arguments: '' } }] };
  }
  return { tool_calls: [{ index: piece.index, function: { arguments: piece.text } }] };
}

/** Folds one choice's pieces into its message fields. */
export class ToolCallAccumulator {
  content = '';
  readonly calls: ChatCompletionMessageToolCall[] = [];

  add(pieces: readonly ToolCallPiece[]): void {
    for (const p of pieces) {
      if (p.type === 'content') this.content += p.text;
      else if (p.type === 'call_start') this.calls.push({ id: p.id, type: 'function', function: { name: p.name, arguments: '' } });
      else this.calls[p.index]!.function.arguments += p.text;
    }
  }

  /** OpenAI's message: content null when the answer is only calls. */
  message(): { content: string | null; tool_calls?: ChatCompletionMessageToolCall[] } {
    if (this.calls.length === 0) return { content: this.content };
    return { content: this.content.trim() === '' ? null : this.content, tool_calls: this.calls };
  }
}

/** A choice that called tools and stopped on its own finished with `tool_calls`; a cut one keeps `length`. */
export function toolFinishReason(finish: FinishReason | null, numCalls: number): FinishReason | null {
  return finish === 'stop' && numCalls > 0 ? 'tool_calls' : finish;
}
