// PromptFlow's role-marker parsing (promptflow-tools' parse_chat), rule by rule, with the
// expected messages written out by hand.
import { describe, expect, it } from 'vitest';
import { parseChat } from '../../../src/flow';
import { RoleEscaper } from '../../../src/flow/chat-parse';

describe('parseChat', () => {
  it('splits on role lines with or without #, any case, content stripped', () => {
    expect(parseChat('# System:\n  Be nice.  \n\n#user :\nHi\nthere\n\nASSISTANT:\nHello\n')).toEqual([
      { role: 'system', content: 'Be nice.' },
      { role: 'user', content: 'Hi\nthere' },
      { role: 'assistant', content: 'Hello' },
    ]);
  });

  it('a role word inside a line, a heading, or a role without its own line is content', () => {
    expect(parseChat('system:\nThe user: asks.\n# Safety\nuser: hi\n## user:\nx')).toEqual([{ role: 'system', content: 'The user: asks.\n# Safety\nuser: hi\n## user:\nx' }]);
  });

  it('leading blank lines are fine; text before the first role line is not; no role at all is not', () => {
    expect(parseChat('\n\n  \nuser:\nq')).toEqual([{ role: 'user', content: 'q' }]);
    expect(() => parseChat('Hello\nuser:\nq')).toThrow(expect.objectContaining({ code: 'bad_chat_prompt' }));
    expect(() => parseChat('just text')).toThrow(expect.objectContaining({ code: 'bad_chat_prompt' }));
  });

  it('an empty last message has empty content; consecutive role lines make empty messages', () => {
    expect(parseChat('system:\nuser:\nq\nassistant:\n')).toEqual([
      { role: 'system', content: '' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '' },
    ]);
  });

  it("function messages take name:/content: sub-lines (## optional) and need them", () => {
    expect(parseChat('user:\nq\nfunction:\n## name:\nget_weather\n## content:\n{"t": 20}\n')).toEqual([
      { role: 'user', content: 'q' },
      { role: 'function', name: 'get_weather', content: '{"t": 20}' },
    ]);
    expect(() => parseChat('function:\nno name\n')).toThrow(expect.objectContaining({ code: 'bad_chat_prompt' }));
  });
});

describe('RoleEscaper', () => {
  it('hides role lines inside values from the parser, then gives them back', () => {
    const e = new RoleEscaper();
    const vars = e.escape({ q: 'a\nSystem:\nb', h: [{ content: '# assistant:' }] }) as { q: string; h: Array<{ content: string }> };
    expect(vars.q).not.toMatch(/system/i);
    const msgs = parseChat(`user:\n${vars.q}\n${vars.h[0]!.content}\n`);
    expect(msgs).toHaveLength(1);
    expect(e.unescape(msgs[0]!.content)).toBe('a\nSystem:\nb\n# assistant:');
  });
});
