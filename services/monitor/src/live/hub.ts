/** One change as pushed to browsers: the NATS subject and the keys of what it touched. */
export interface LiveEvent {
  subject: string;
  keys: string[];
}

type Listener = (event: LiveEvent) => void;

interface Subscription {
  keys: ReadonlySet<string>;
  listener: Listener;
}

/** Fans events out to server-sent-event streams, each interested in some keys (`*` = all). */
export class LiveHub {
  private readonly subs = new Set<Subscription>();
  private closed = false;
  private readonly closers = new Set<() => void>();
  /** Events seen per subject prefix (`panda.job`, ...), for `/events?json`. */
  readonly counts = new Map<string, number>();

  get size(): number {
    return this.subs.size;
  }

  /** Registers a stream; `onClose` runs when the hub closes (shutdown). Returns the unsubscribe. */
  subscribe(keys: readonly string[], listener: Listener, onClose: () => void): () => void {
    if (this.closed) {
      onClose();
      return () => undefined;
    }
    const sub: Subscription = { keys: new Set(keys.length ? keys : ['*']), listener };
    this.subs.add(sub);
    this.closers.add(onClose);
    return () => {
      this.subs.delete(sub);
      this.closers.delete(onClose);
    };
  }

  publish(event: LiveEvent): void {
    const prefix = event.subject.split('.').slice(0, 2).join('.');
    this.counts.set(prefix, (this.counts.get(prefix) ?? 0) + 1);
    for (const sub of this.subs) {
      if (sub.keys.has('*') || event.keys.some((k) => sub.keys.has(k))) sub.listener(event);
    }
  }

  /** Ends every stream (so that the HTTP server can close). */
  close(): void {
    this.closed = true;
    for (const close of this.closers) close();
    this.closers.clear();
    this.subs.clear();
  }
}
