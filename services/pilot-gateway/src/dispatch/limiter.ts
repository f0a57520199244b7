import { AbortError } from 'abort-controller-x';

/** The gateway has too much work waiting for the server: the pilot should retry later. */
export class OverloadedError extends Error {
  constructor(
    /** Seconds the pilot should wait before trying again (the `Retry-After` header). */
    readonly retryAfterS: number,
    message: string,
  ) {
    super(message);
    this.name = 'OverloadedError';
  }
}

export interface LimiterOptions {
  /** Most calls to the server at the same time. */
  maxInFlight: number;
  /** Most requests admitted but not yet in a call (waiting for a slot or for their batch). */
  maxQueued: number;
  /** What an OverloadedError tells the pilot. */
  retryAfterS: number;
}

/** What the limiter holds now and has refused so far (for /metrics). */
export interface LimiterState {
  inFlight: number;
  queued: number;
  rejected: number;
}

interface Waiter {
  weight: number;
  grant: () => void;
}

/**
 * Bounds the gateway's work toward the server: at most `maxInFlight` calls run at once, and
 * at most `maxQueued` requests wait for one (FIFO). A request is first *reserved* (refused with
 * OverloadedError when the queue is full, so nothing is taken that cannot be done), then waits
 * for a slot. A batch of updates reserved one by one takes one slot with the weight of its size.
 */
export class CallLimiter {
  private inFlight = 0;
  private queued = 0;
  private rejected = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly o: LimiterOptions) {}

  state(): LimiterState {
    return { inFlight: this.inFlight, queued: this.queued, rejected: this.rejected };
  }

  /** Takes room for `n` requests in the queue, or throws OverloadedError. */
  reserve(n = 1): void {
    if (this.queued + n > this.o.maxQueued) {
      this.rejected += n;
      throw new OverloadedError(
        this.o.retryAfterS,
        `gateway overloaded: ${this.queued} requests already wait for the server ` +
          `(limit ${this.o.maxQueued}); retry after ${this.o.retryAfterS} s`,
      );
    }
    this.queued += n;
  }

  /** Gives back room taken by `reserve` for requests that will not be sent. */
  unreserve(n = 1): void {
    this.queued = Math.max(0, this.queued - n);
  }

  /**
   * Waits for a call slot for `weight` reserved requests (which then leave the queue) and
   * returns the function that frees the slot. If `signal` aborts first, the requests leave the
   * queue and an AbortError is thrown.
   */
  async acquire(weight: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) {
      this.unreserve(weight);
      throw new AbortError();
    }
    if (this.inFlight < this.o.maxInFlight && this.waiting.length === 0) {
      this.start(weight);
    } else {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          weight,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          this.unreserve(weight);
          reject(new AbortError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.next();
    };
  }

  /** Reserves one request, runs `call` in a slot and frees it. */
  async run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.reserve(1);
    const release = await this.acquire(1, signal);
    try {
      return await call();
    } finally {
      release();
    }
  }

  private start(weight: number): void {
    this.unreserve(weight);
    this.inFlight++;
  }

  private next(): void {
    while (this.inFlight < this.o.maxInFlight) {
      const waiter = this.waiting.shift();
      if (!waiter) return;
      this.start(waiter.weight);
      waiter.grant();
    }
  }
}
