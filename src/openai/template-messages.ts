// Chat messages (OpenAI's wire form, validated) → the messages a chat template reads:
// `developer` is `system`; tool calls keep OpenAI's JSON-text arguments (the template layer
// parses them into objects, as transformers' templates expect); a `tool` turn keeps its
// call id and name. The model's tool-call format may want ids in its own form (Mistral).
import type { ChatMessage as TemplateMessage, ChatRole } from '../model/template';
import type { ChatMessage } from './engine-api';
import type { ToolCallFormat } from './tools/format';

const ROLE_FOR_TEMPLATE: Record<ChatMessage['role'], ChatRole> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
};

export function templateMessages(messages: readonly ChatMessage[], format: ToolCallFormat | null): TemplateMessage[] {
  const id = (v: string) => format?.historyId?.(v) ?? v;
  return messages.map((m) => {
    const out: TemplateMessage = { role: ROLE_FOR_TEMPLATE[m.role], content: m.content ?? null };
    if (m.role === 'assistant' && m.tool_calls !== undefined && m.tool_calls.length > 0) {
      out.tool_calls = m.tool_calls.map((c) => ({
        id: id(c.id),
        type: 'function',
        // '' is a call without arguments (validate.ts accepts it): the template prints {}.
        function: { name: c.function.name, arguments: c.function.arguments === '' ? '{}' : c.function.arguments },
      }));
    }
    if (m.role === 'tool') {
      if (m.tool_call_id !== undefined) out.tool_call_id = id(m.tool_call_id);
      if (m.name !== undefined) out.name = m.name;
    }
    return out;
  });
}
