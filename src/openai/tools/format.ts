// Tool-call formats: how a model family writes calls, chosen from its chat template's text
// (the template teaches the model its format, so the text names it; no model-name list).
// Each format (one file each) gives the parser's syntax, the structural tag that constrains
// calls, and how the template wants call ids in history.

import type { OutputConstraint } from '../../engine/request';
import type { ChatTool } from './definitions';
import type { ToolCallSyntax } from './call-parser';
import { hermes } from './hermes';
import { llamaJson } from './llama-json';
import { mistral } from './mistral';

/** `required`: calls only (at least one); `auto`: text until the model opens a call, then a forced valid call. */
export type CallMode = 'auto' | 'required';

export interface ToolCallFormat {
  readonly name: string;
  /** True when a template's text writes (and so teaches) calls in this format. */
  detect(templateSource: string): boolean;
  readonly syntax: ToolCallSyntax;
  /** The constraint for calls to `tools`; `parallel` false stops after the first call. */
  constraint(tools: readonly ChatTool[], mode: CallMode, parallel: boolean): OutputConstraint;
  /** A call id as the template accepts it in history (Mistral: nine alphanumerics); default: as sent. */
  historyId?(id: string): string;
}

/** In the order tried: a template that prints `<tool_call>` is Hermes-style even if it mentions others. */
export const TOOL_CALL_FORMATS: readonly ToolCallFormat[] = [hermes, mistral, llamaJson];

/** A template renders tools when its text reads the `tools` variable. */
export function templateUsesTools(templateSource: string): boolean {
  return /\btools\b/.test(templateSource);
}

/** The format a template writes calls in, or null (tools unsupported by this template). */
export function detectToolFormat(templateSource: string): ToolCallFormat | null {
  if (!templateUsesTools(templateSource)) return null;
  return TOOL_CALL_FORMATS.find((f) => f.detect(templateSource)) ?? null;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `call_` + nine random alphanumerics: OpenAI's prefix, and Mistral's id length in its tail. */
export function newCallId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  let id = 'call_';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}
