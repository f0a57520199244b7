import { TransitionTable } from '@panda/platform';

/**
 * A getJob held by the gateway (push mode). `acquiring`: asking the server; `waiting`: blocked
 * until woken or timed out; `woken`: a job was announced for its queue, ask again at once.
 */
export type TicketState = 'acquiring' | 'waiting' | 'woken' | 'left';

export const ticketLifecycle = new TransitionTable<TicketState>('push ticket', {
  acquiring: ['waiting', 'woken', 'left'],
  waiting: ['woken', 'acquiring', 'left'],
  woken: ['acquiring', 'left'],
  left: [],
});

export class Ticket {
  state: TicketState = 'acquiring';
  private resolve: (() => void) | undefined;

  constructor(
    readonly queue: string,
    private readonly owner: QueueWaiters,
  ) {}

  move(to: TicketState): void {
    ticketLifecycle.assertMove(this.state, to);
    this.state = to;
    if (to === 'woken' || to === 'left') this.resolve?.();
  }

  /** Waits until woken, `ms` passed or `signal` aborted; then the ticket is `acquiring` again. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.state === 'acquiring') {
      this.move('waiting');
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.resolve?.();
      await new Promise<void>((resolve) => {
        this.resolve = resolve;
        timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      this.resolve = undefined;
    }
    if (this.state !== 'left') this.move('acquiring');
  }

  leave(): void {
    if (this.state !== 'left') this.move('left');
    this.owner.remove(this);
  }
}

/** The getJob calls held per queue, woken when jobs are activated on it. */
export class QueueWaiters {
  private readonly byQueue = new Map<string, Set<Ticket>>();
  /** Set at shutdown: held calls answer at once. */
  closed = false;

  /** Wakes every held call for good (shutdown). */
  close(): void {
    this.closed = true;
    for (const set of this.byQueue.values()) {
      for (const ticket of set)
        if (ticket.state === 'waiting' || ticket.state === 'acquiring') ticket.move('woken');
    }
  }

  /** Registers a waiter before it asks the server, so no announcement is missed in between. */
  enter(queue: string): Ticket {
    const ticket = new Ticket(queue, this);
    const set = this.byQueue.get(queue) ?? new Set<Ticket>();
    set.add(ticket);
    this.byQueue.set(queue, set);
    return ticket;
  }

  remove(ticket: Ticket): void {
    const set = this.byQueue.get(ticket.queue);
    set?.delete(ticket);
    if (set?.size === 0) this.byQueue.delete(ticket.queue);
  }

  /**
   * `jobs` were activated on `queue`: wakes that many waiters, the longest-waiting first;
   * if fewer are blocked, marks those still asking the server so they ask once more.
   * Returns how many were woken.
   */
  wake(queue: string, jobs: number): number {
    const set = this.byQueue.get(queue);
    if (!set || jobs <= 0) return 0;
    let woken = 0;
    for (const state of ['waiting', 'acquiring'] as const) {
      for (const ticket of set) {
        if (woken >= jobs) return woken;
        if (ticket.state === state) {
          ticket.move('woken');
          woken++;
        }
      }
    }
    return woken;
  }

  count(queue?: string): number {
    if (queue !== undefined) return this.byQueue.get(queue)?.size ?? 0;
    let n = 0;
    for (const set of this.byQueue.values()) n += set.size;
    return n;
  }
}
