import type { Logger } from '../logging/logger.js';

type Step = { name: string; run: (signal: AbortSignal) => Promise<void> | void };

export interface ShutdownOptions {
  logger: Logger;
  /** After this many ms the remaining steps are abandoned and the process exits. */
  forceAfterMs: number;
  /** Call process.exit when done (services); tests leave it off. */
  exitProcess?: boolean;
}

/**
 * Ordered graceful shutdown: steps run in the order they were added (stop taking work,
 * drain, close). Calling `shutdown` twice returns the same promise. A deadline forces the
 * end if a step hangs.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;
  private readonly controller = new AbortController();

  constructor(private readonly options: ShutdownOptions) {}

  /** Aborted as soon as shutdown starts: loops check it to stop taking work. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  installSignalHandlers(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): void {
    for (const sig of signals) {
      process.once(sig, () => {
        this.options.logger.info({ signal: sig }, 'shutdown requested');
        void this.shutdown();
      });
    }
  }

  shutdown(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    const { logger, forceAfterMs, exitProcess } = this.options;
    this.controller.abort(new Error('shutting down'));
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('shutdown deadline passed')), forceAfterMs);
    timer.unref();
    let failed = false;
    for (const step of this.steps) {
      if (deadline.signal.aborted) {
        logger.warn({ step: step.name }, 'shutdown deadline passed, skipping step');
        failed = true;
        continue;
      }
      try {
        await Promise.race([step.run(deadline.signal), abortPromise(deadline.signal)]);
        logger.debug({ step: step.name }, 'shutdown step done');
      } catch (err) {
        failed = true;
        logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    clearTimeout(timer);
    logger.info({ forced: failed }, 'stopped');
    if (exitProcess) process.exit(failed ? 1 : 0);
  }
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}
