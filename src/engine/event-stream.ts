// A single-consumer async queue: the engine pushes a request's events as steps finish,
// the caller pulls them with `for await`. Leaving the loop early (`return()`) calls
// `onCancel`, which aborts the request.

export class EventStream<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private closed = false;
  private error: unknown = undefined;
  private failed = false;
  private iterated = false;

  constructor(private readonly onCancel: () => void = () => {}) {}

  get isClosed(): boolean {
    return this.closed || this.failed;
  }

  push(value: T): void {
    if (this.isClosed) return;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value, done: false });
    } else {
      this.buffer.push(value);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.wakeDone();
  }

  /** Ends the stream with an error, delivered after the events already buffered. */
  fail(error: unknown): void {
    if (this.isClosed) return;
    this.failed = true;
    this.error = error;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error('EventStream: a request stream can be iterated only once');
    this.iterated = true;
    return {
      next: () => {
        if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
        if (this.failed) return Promise.reject(this.error);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        if (!this.isClosed) {
          this.onCancel();
          this.close();
        }
        this.buffer.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Drains the stream into an array (tests, non-streaming callers). */
  async collect(): Promise<T[]> {
    const out: T[] = [];
    for await (const v of this) out.push(v);
    return out;
  }

  private wakeDone(): void {
    if (this.waiter !== null && this.buffer.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }
}
