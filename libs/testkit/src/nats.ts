import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { describeLog, onProcessExit, signal, spawnLogged, stopProcessGroup, tailFile } from './proc.js';

export interface StartNatsOptions {
  /** Folder in which a fresh `nats-*` folder (JetStream store) is made (default: OS temp folder). */
  baseDir?: string;
  /** Server output (default: `<dir>/nats.log`, removed with the folder). */
  logFile?: string;
  /** The nats-server binary (default: $TESTKIT_NATS_SERVER or `nats-server` on PATH). */
  binary?: string;
  readyTimeoutMs?: number;
}

export interface NatsHandle {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** Holds the JetStream store; removed by stop(). */
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts `nats-server -js` on a free port on 127.0.0.1 with its store in a fresh folder and waits
 * until it accepts connections. `stop()` terminates it and removes the folder.
 */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsHandle> {
  const base = resolve(options.baseDir ?? tmpdir());
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'nats-'));
  const logFile = options.logFile ?? join(dir, 'nats.log');
  const binary = options.binary ?? process.env['TESTKIT_NATS_SERVER'] ?? 'nats-server';

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawnLogged(
      binary,
      ['-js', '-sd', join(dir, 'jetstream'), '-p', String(port), '-a', '127.0.0.1'],
      {
        cwd: dir,
        logFile,
      },
    );
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    try {
      await waitForPort(port, {
        timeoutMs: options.readyTimeoutMs ?? 15_000,
        abortIf: () =>
          spawnError !== undefined
            ? `cannot run ${binary}: ${spawnError.message} (run ./dev setup)`
            : child.exitCode !== null || child.signalCode !== null
              ? `nats-server exited (${child.exitCode ?? child.signalCode})`
              : undefined,
      });
    } catch (err) {
      if (child.pid !== undefined) await stopProcessGroup(child.pid, 2_000);
      if (attempt < 3 && /already in use|bind/i.test(tailFile(logFile, 10))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}\n${describeLog(logFile, 20)}`);
    }

    const pid = child.pid!;
    const removeExitHook = onProcessExit(() => {
      signal(-pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await stopProcessGroup(pid, 5_000);
        rmSync(dir, { recursive: true, force: true });
        removeExitHook();
      })());
    return { url: `nats://127.0.0.1:${port}`, port, pid, dir, logFile, stop };
  }
}
