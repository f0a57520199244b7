import type { Logger } from '@panda/platform';
import type { HarvesterAgent } from './agent.js';

export interface CycleLoopOptions {
  cycleMs: number;
  /** Shortest time between the starts of two cycles, even when kicked. */
  minGapMs?: number;
  logger: Logger;
  /** Told how each cycle ended (metrics). */
  onCycle?: (outcome: 'ok' | 'error') => void;
}

/** Runs the agent's cycle every `cycleMs` (sooner when kicked) until the signal aborts. */
export class CycleLoop {
  private wake: (() => void) | undefined;
  private kicked = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly agent: Pick<HarvesterAgent, 'cycle'>,
    private readonly o: CycleLoopOptions,
  ) {}

  start(signal: AbortSignal): void {
    this.loop ??= this.run(signal);
  }

  /** Starts the next cycle early (e.g. a pilot exited). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Resolves when the loop has stopped (the cycle in progress finished). */
  async stopped(): Promise<void> {
    await this.loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const minGap = Math.min(this.o.minGapMs ?? 1000, this.o.cycleMs);
    while (!signal.aborted) {
      const started = Date.now();
      this.kicked = false;
      try {
        const report = await this.agent.cycle(signal);
        if (report.updated || Object.keys(report.submitted).length) this.o.logger.info(report, 'cycle');
        this.o.onCycle?.('ok');
      } catch (err) {
        if (!signal.aborted) this.o.logger.error({ err }, 'harvester cycle failed; will retry');
        this.o.onCycle?.('error');
      }
      const elapsed = Date.now() - started;
      await this.sleep(Math.max(minGap - elapsed, 0), signal, false);
      await this.sleep(Math.max(this.o.cycleMs - (Date.now() - started), 0), signal, true);
    }
  }

  private sleep(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    if (signal.aborted || ms <= 0 || (wakeable && this.kicked)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (wakeable) this.wake = done;
    });
  }
}
