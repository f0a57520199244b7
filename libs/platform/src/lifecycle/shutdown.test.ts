import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.js';
import { Shutdown } from './shutdown.js';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('Shutdown', () => {
  it('runs steps in order once, even when called twice', async () => {
    const order: string[] = [];
    const s = new Shutdown({ logger, forceAfterMs: 1000 });
    s.add('stop', () => void order.push('stop'));
    s.add('drain', async () => {
      await new Promise((r) => setTimeout(r, 10));
      order.push('drain');
    });
    expect(s.signal.aborted).toBe(false);
    await Promise.all([s.shutdown(), s.shutdown()]);
    expect(order).toEqual(['stop', 'drain']);
    expect(s.signal.aborted).toBe(true);
  });

  it('forces past a hanging step after the deadline', async () => {
    const s = new Shutdown({ logger, forceAfterMs: 50 });
    let closed = false;
    s.add('hang', () => new Promise(() => {}));
    s.add('close', () => {
      closed = true;
    });
    const started = Date.now();
    await s.shutdown();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(closed).toBe(false);
  });
});
