// The streaming tool-call parser: a model's output text in, OpenAI-shaped pieces out —
// content, then per call its start (id, name) and its arguments' text as it grows. The
// syntax of a format (src/openai/tools/<format>.ts) says what opens a call region and what
// closes it; inside a region the parser reads JSON call objects, separated by `,` or `;`
// and maybe wrapped in `[…]`, one CallScanner each.
//
// It runs one character at a time, so where the text is split into pushes changes only how
// the pieces are grouped, never what they add up to. Text that may be the start of a marker
// (`<tool_` of `<tool_call>`) is held back until it is known not to be one.
//
//   text:    Let me check.<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>
//   pieces:  content "Let me check."  start {index 0, id, name "f"}  args '{"a": 1}'

import { CallScanner } from './call-scanner';

export interface CallMarker {
  text: string;
  /** The marker is the call object's own first characters (`{"name"`), fed to the scanner. */
  partOfBody?: boolean;
}

export interface ToolCallSyntax {
  /** Texts that open a call region. */
  begin: readonly CallMarker[];
  /** Text that closes a region; null: a region runs to the end of the output (or to text that is not JSON). */
  end: string | null;
  /** A region also opens when the output, after whitespace, starts with `{` (Llama 3's bare JSON). */
  bareJsonAtStart: boolean;
  /** The member names that hold the arguments (`arguments`, Llama's `parameters`). */
  argumentKeys: readonly string[];
}

export type ToolCallPiece =
  | { type: 'content'; text: string }
  | { type: 'call_start'; index: number; id: string; name: string }
  | { type: 'call_arguments'; index: number; text: string };

/** Characters between call objects inside a region. */
const SEPARATORS = new Set([' ', '\n', '\r', '\t', ',', ';', '[', ']']);
const isSpace = (ch: string) => ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t';

export class ToolCallParser {
  private mode: 'start' | 'text' | 'region' = 'start';
  /** Text mode: characters that may begin a marker. Region mode: that may begin the end marker. */
  private held = '';
  /** Whitespace not yet sent: leading (start mode) or after a call (dropped unless text follows). */
  private space = '';
  private scanner: CallScanner | null = null;
  /** The current call's index once started, and how much of its arguments went out. */
  private callIndex = -1;
  private argsSent = 0;
  private numCalls = 0;
  private out: ToolCallPiece[] = [];

  constructor(
    private readonly syntax: ToolCallSyntax,
    private readonly newId: () => string,
  ) {
    if (!syntax.bareJsonAtStart) this.mode = 'text';
  }

  /** Calls started so far. */
  get callCount(): number {
    return this.numCalls;
  }

  /** Adds output text; returns the pieces it completes. */
  push(text: string): ToolCallPiece[] {
    for (const ch of text) this.step(ch);
    this.flushArguments();
    return this.take();
  }

  /** Ends the output: held text is content, a call cut short keeps what it had. */
  end(): ToolCallPiece[] {
    if (this.mode === 'text' || this.mode === 'start') this.emitContent(this.held, true);
    else if (this.scanner !== null) this.finishCall();
    this.held = '';
    if (this.mode === 'start') this.emitContent(this.space, true);
    return this.take();
  }

  private take(): ToolCallPiece[] {
    const pieces = this.out;
    this.out = [];
    return pieces;
  }

  private step(ch: string): void {
    if (this.mode === 'start') {
      if (isSpace(ch)) {
        this.space += ch;
        return;
      }
      this.mode = 'text';
      if (ch === '{') {
        this.space = '';
        return this.openRegion(ch);
      }
      this.emitContent(this.space, true);
      this.space = '';
    }
    if (this.mode === 'text') return this.textChar(ch);
    this.regionChar(ch);
  }

  private textChar(ch: string): void {
    this.held += ch;
    while (this.held !== '') {
      const marker = this.syntax.begin.find((m) => m.text.startsWith(this.held));
      if (marker === undefined) {
        // The oldest held character cannot start a marker: it is content.
        this.emitContent(this.held[0]!, false);
        this.held = this.held.slice(1);
        continue;
      }
      if (marker.text === this.held) {
        this.held = '';
        this.openRegion(marker.partOfBody ? marker.text : '');
      }
      return;
    }
  }

  private openRegion(body: string): void {
    this.mode = 'region';
    this.space = '';
    for (const ch of body) this.regionChar(ch);
  }

  private regionChar(ch: string): void {
    if (this.scanner !== null) {
      this.scanner.push(ch);
      this.flushArguments();
      if (this.scanner.done) this.finishCall();
      return;
    }
    const end = this.syntax.end;
    if (end !== null && (this.held !== '' || ch === end[0])) {
      this.held += ch;
      if (end === this.held) {
        this.held = '';
        this.mode = 'text';
      } else if (!end.startsWith(this.held)) {
        // Not the end marker after all: the region's text goes on from here.
        const text = this.held;
        this.held = '';
        this.mode = 'text';
        for (const c of text) this.textChar(c);
      }
      return;
    }
    if (ch === '{') {
      this.scanner = new CallScanner(this.syntax.argumentKeys);
      this.scanner.push(ch);
      return;
    }
    if (SEPARATORS.has(ch)) return;
    // Text that is no call: the region is over.
    this.mode = 'text';
    this.textChar(ch);
  }

  private flushArguments(): void {
    const s = this.scanner;
    if (s === null) return;
    if (this.callIndex < 0) {
      if (s.name === undefined) return;
      this.callIndex = this.numCalls++;
      this.argsSent = 0;
      this.out.push({ type: 'call_start', index: this.callIndex, id: this.newId(), name: s.name });
    }
    const args = s.argumentsSoFar();
    if (args.length > this.argsSent) {
      const text = args.slice(this.argsSent);
      const last = this.out[this.out.length - 1];
      if (last?.type === 'call_arguments' && last.index === this.callIndex) last.text += text;
      else this.out.push({ type: 'call_arguments', index: this.callIndex, text });
      this.argsSent = args.length;
    }
  }

  private finishCall(): void {
    const s = this.scanner!;
    this.flushArguments();
    // An object that never named a function was not a call: its text is content.
    if (this.callIndex < 0) this.emitContent(s.raw, true);
    this.scanner = null;
    this.callIndex = -1;
  }

  /**
   * Content out. After a call, whitespace waits until text follows (the newlines between
   * `</tool_call>` blocks are layout, not an answer); `final` drops what still waits.
   */
  private emitContent(text: string, final: boolean): void {
    if (text === '') return;
    if (this.numCalls > 0) {
      for (const ch of text) {
        if (isSpace(ch)) this.space += ch;
        else {
          this.addContent(this.space + ch);
          this.space = '';
        }
      }
      if (final) this.space = '';
      return;
    }
    this.addContent(text);
  }

  private addContent(text: string): void {
    const last = this.out[this.out.length - 1];
    if (last?.type === 'content') last.text += text;
    else this.out.push({ type: 'content', text });
  }
}
