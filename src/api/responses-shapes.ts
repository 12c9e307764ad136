// Wire shapes of OpenAI's Responses API as tabllm answers them: the `response` object
// (non-stream body, `GET /v1/responses/{id}`, and the `response` of stream events), its one
// assistant output message, and usage. Fields are the ones the `openai` v6 types declare
// required, so the SDK, the AI SDK's zod schemas and LangChain read them as OpenAI's.

import type { CompletionUsage, FinishReason } from '../openai/engine-api';
import { unixSeconds } from '../openai/shapes';
import type { ResponsesCreateParams } from './responses-params';

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface OutputMessage {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  completed_at: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string> | null;
  model: string;
  output: OutputMessage[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: null; summary: null };
  service_tier: 'default';
  store: boolean;
  temperature: number;
  text: { format: { type: 'text' } };
  tool_choice: 'none' | 'auto';
  tools: never[];
  top_p: number;
  truncation: 'disabled';
  usage: ResponseUsage | null;
  user: null;
}

/** What one request asked for, echoed in every `response` object of it. */
export interface ResponseHeader {
  id: string;
  createdAt: number;
  model: string;
  params: ResponsesCreateParams;
  store: boolean;
}

export function outputText(text: string): OutputText {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function outputMessage(id: string, status: OutputMessage['status'], text: string | null): OutputMessage {
  return { type: 'message', id, status, role: 'assistant', content: text === null ? [] : [outputText(text)] };
}

export function responseUsage(usage: CompletionUsage): ResponseUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens,
  };
}

/** A finished generation: `length` is OpenAI's `incomplete` with reason `max_output_tokens`. */
export function finishedStatus(finish: FinishReason | null): 'completed' | 'incomplete' {
  return finish === 'length' ? 'incomplete' : 'completed';
}

export function responseObject(
  head: ResponseHeader,
  status: ResponseStatus,
  output: OutputMessage[],
  usage: ResponseUsage | null,
  error: ResponseObject['error'] = null,
): ResponseObject {
  const p = head.params;
  const done = status === 'completed' || status === 'incomplete';
  return {
    id: head.id,
    object: 'response',
    created_at: head.createdAt,
    status,
    completed_at: done ? unixSeconds() : null,
    error,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: p.instructions ?? null,
    max_output_tokens: p.max_output_tokens ?? null,
    metadata: p.metadata ?? null,
    model: head.model,
    output,
    parallel_tool_calls: p.parallel_tool_calls ?? true,
    previous_response_id: p.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: head.store,
    // The engine's defaults are OpenAI's: temperature 1, top_p 1.
    temperature: p.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: p.tool_choice ?? 'auto',
    tools: [],
    top_p: p.top_p ?? 1,
    truncation: 'disabled',
    usage,
    user: null,
  };
}
