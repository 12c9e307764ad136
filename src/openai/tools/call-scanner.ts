// One tool call's JSON object (`{"name": "get_weather", "arguments": {"city": "Paris"}}`),
// scanned one character at a time as the model writes it, so a stream can send the name
// as soon as its string closes and the arguments' text as it grows. It tracks only what a
// call needs: nesting depth, strings and escapes, and which top-level member is being
// written; the text is never re-parsed while it grows.
//
//   {"name": "f", "arguments": {"a": [1, 2]}}
//   ^depth 1     ^key done     ^argsStart  ^argsEnd (depth back to 1)

export class CallScanner {
  /** The object's text so far. */
  private text = '';
  private depth = 0;
  private inString = false;
  private escape = false;
  /** What the top level (depth 1) expects next. */
  private phase: 'key' | 'colon' | 'value' | 'comma' = 'key';
  private keyStart = -1;
  private key = '';
  private valueStart = -1;
  private argsStart = -1;
  private argsEnd = -1;
  private argsClosed = false;
  /** The arguments member held a string (JSON text in a string): its parsed text, once complete. */
  private argsFromString: string | undefined;
  /** The call's function name, once its string has closed. */
  name: string | undefined;
  /** The object has closed. */
  done = false;

  constructor(private readonly argumentKeys: readonly string[]) {}

  /** The object's text so far (for an object that turned out not to be a call). */
  get raw(): string {
    return this.text;
  }

  /**
   * The arguments' JSON text that can be sent so far: an object's text as it grows; a
   * string's content only once complete; `{}` when a closed call had none.
   */
  argumentsSoFar(): string {
    if (this.argsFromString !== undefined) return this.argsFromString;
    if (this.argsStart >= 0) return this.text.slice(this.argsStart, this.argsEnd);
    return this.done ? '{}' : '';
  }

  /** Adds one character (the caller stops at `done`). */
  push(ch: string): void {
    const at = this.text.length;
    this.text += ch;
    if (this.inString) {
      if (this.escape) this.escape = false;
      else if (ch === '\\') this.escape = true;
      else if (ch === '"') {
        this.inString = false;
        if (this.depth === 1) this.stringClosed(at);
      }
    } else if (ch === '"') {
      this.inString = true;
      if (this.depth === 1) this.valueBegins(at);
    } else if (ch === '{' || ch === '[') {
      if (this.depth === 1) this.valueBegins(at);
      this.depth++;
    } else if (ch === '}' || ch === ']') {
      this.depth--;
      if (this.depth === 1 && this.argsStart >= 0 && !this.argsClosed) {
        this.argsEnd = at + 1;
        this.argsClosed = true;
      }
      if (this.depth === 0) {
        if (this.phase === 'value') this.phase = 'comma';
        this.done = true;
      }
    } else if (this.depth === 1) {
      if (ch === ':' && this.phase === 'colon') {
        this.phase = 'value';
        this.valueStart = -1;
      } else if (ch === ',' && (this.phase === 'value' || this.phase === 'comma')) {
        this.phase = 'key';
      } else if (!/\s/.test(ch)) this.valueBegins(at);
    }
    if (this.argsStart >= 0 && !this.argsClosed) this.argsEnd = this.text.length;
  }

  private valueBegins(at: number): void {
    if (this.phase === 'key') {
      this.keyStart = at;
      return;
    }
    if (this.phase !== 'value' || this.valueStart >= 0) return;
    this.valueStart = at;
    if (this.argumentKeys.includes(this.key) && this.text[at] === '{' && this.argsStart < 0) this.argsStart = at;
  }

  private stringClosed(at: number): void {
    const s = this.text.slice(this.phase === 'key' ? this.keyStart : this.valueStart, at + 1);
    if (this.phase === 'key') {
      this.key = parseString(s) ?? '';
      this.phase = 'colon';
    } else if (this.phase === 'value' && this.valueStart >= 0) {
      if (this.key === 'name' && this.name === undefined) this.name = parseString(s);
      else if (this.argumentKeys.includes(this.key) && this.argsStart < 0) this.argsFromString = parseString(s);
      this.phase = 'comma';
    }
  }
}

function parseString(jsonString: string): string | undefined {
  try {
    const v: unknown = JSON.parse(jsonString);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
