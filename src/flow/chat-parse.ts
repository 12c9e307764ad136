// A rendered chat prompt → chat messages, the way promptflow-tools' `parse_chat` splits it:
// a line that is only a role and a colon (`system:`, `# user:`, any case) starts a message;
// its content is everything up to the next such line, stripped. Text before the first role
// line is an error (PromptFlow's ChatAPIInvalidRole). A `function`/`tool` message may carry
// `name:` / `content:` sub-lines (PromptFlow's try_parse_name_and_content).
import { FlowError } from './errors';

export const CHAT_ROLES = ['system', 'user', 'assistant', 'function', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
  name?: string;
}

/** PromptFlow's separator: `(?i)^\s*#?\s*(roles)\s*:\s*\n`, multiline. */
const ROLE_LINE_RE = new RegExp(`^\\s*#?\\s*(${CHAT_ROLES.join('|')})\\s*:\\s*\\n`, 'gim');
/** `name:` then `content:` (each optionally after `##`). */
const NAME_CONTENT_RE = /^\n*#{0,2}\s*name\s*:\s*\n+\s*(\S+)\s*\n*#{0,2}\s*content\s*:\s*\n?([\s\S]*)$/;

export function parseChat(prompt: string, where: { file?: string; node?: string } = {}): ChatMessage[] {
  // String.split with a capturing group interleaves the roles, as Python's re.split does.
  const chunks = prompt.split(ROLE_LINE_RE);
  const messages: Array<{ role: ChatRole; content?: string; name?: string }> = [];
  for (const chunk of chunks) {
    const last = messages[messages.length - 1];
    if (last && last.content === undefined) {
      const named = NAME_CONTENT_RE.exec(chunk);
      if (named) {
        last.name = named[1]!;
        last.content = named[2]!.trim();
      } else if (last.role === 'function') {
        throw new FlowError('bad_chat_prompt', "a 'function' message needs 'name:' and 'content:' lines", where);
      } else {
        last.content = chunk.trim();
      }
      continue;
    }
    if (chunk.trim() === '') continue;
    const role = chunk.trim().toLowerCase();
    if (!(CHAT_ROLES as readonly string[]).includes(role)) {
      throw new FlowError(
        'bad_chat_prompt',
        `the chat prompt must be split into messages by role lines ('system:', 'user:', 'assistant:'); found text before the first one: '${chunk.trim().slice(0, 60)}'`,
        where,
      );
    }
    messages.push({ role: role as ChatRole });
  }
  if (messages.length === 0) throw new FlowError('bad_chat_prompt', "the chat prompt has no role lines ('system:', 'user:', …)", where);
  return messages.map((m) => ({ role: m.role, content: m.content ?? '', ...(m.name !== undefined ? { name: m.name } : {}) }));
}

/** Role lines inside input values (`^\s*#?\s*role\s*:\s*$`), which must not split the prompt. */
const VALUE_ROLE_RE = new RegExp(`^(\\s*#?\\s*)(${CHAT_ROLES.join('|')})(\\s*:\\s*)$`, 'gim');

/**
 * Role lines that come from input values (a question, a chat_history entry, an upstream
 * node's output) are hidden from the parser — PromptFlow's escape_roles: each role word on
 * such a line becomes a placeholder, put back into the messages after parsing. So user text
 * cannot open a `system:` message of its own.
 */
export class RoleEscaper {
  private readonly nonce = Math.random().toString(36).slice(2, 10);
  private readonly placeholders = new Map<string, string>();

  escape(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') {
      return value.replace(VALUE_ROLE_RE, (_all, pre: string, role: string, post: string) => `${pre}${this.placeholder(role)}${post}`);
    }
    // Values come from JSON/YAML already bounded in depth; the guard keeps this loop finite anyway.
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) return value.map((v) => this.escape(v, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.escape(v, depth + 1)]));
  }

  unescape(text: string): string {
    let out = text;
    for (const [placeholder, role] of this.placeholders) out = out.split(placeholder).join(role);
    return out;
  }

  private placeholder(role: string): string {
    for (const [p, r] of this.placeholders) if (r === role) return p;
    const p = `tabllm-role-${this.nonce}-${this.placeholders.size}`;
    this.placeholders.set(p, role);
    return p;
  }
}
