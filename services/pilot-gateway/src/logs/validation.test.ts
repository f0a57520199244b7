import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchClient } from '../http/app.js';
import { appUnderTest, closeApp, startApp } from '../test-support/app.js';

afterEach(closeApp);

const record = (message: string) => ({ pilotTime: 1, source: 'stdout', severity: 'INFO', message });
const batch = (records: object[]) => ({
  pandaId: 5,
  taskId: 2,
  queue: 'Q',
  workerId: 'w',
  records,
  final: false,
});

describe('POST /logs/v1/records validation', () => {
  const post = (payload: object) =>
    appUnderTest().inject({ method: 'POST', url: '/logs/v1/records', payload });
  const build = () => startApp({} as DispatchClient, { limits: { logMaxLineChars: 100, logMaxRecords: 3 } });

  it('refuses an oversized line with 413 naming the record and the limit', async () => {
    build();
    const res = await post(batch([record('ok'), record('x'.repeat(101))]));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'records[1].message: 101 characters, the limit is 100' });
    const mdc = await post(batch([{ ...record('ok'), mdc: { LABEL: 'y'.repeat(150) } }]));
    expect(mdc.json()).toEqual({ error: 'records[0].mdc.LABEL: 150 characters, the limit is 100' });
  });

  it('refuses too many records with 413 and unknown fields with 400', async () => {
    build();
    const many = await post(batch([record('a'), record('b'), record('c'), record('d')]));
    expect(many.statusCode).toBe(413);
    expect(many.json()).toEqual({ error: 'records: 4 records, the limit is 3 per request' });
    const unknown = await post(batch([{ ...record('a'), colour: 'red' }]));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: 'records.0.colour: unknown field' });
    const top = await post({ ...batch([]), extra: 1 });
    expect(top.json()).toEqual({ error: 'extra: unknown field' });
  });

  it('answers 503 for valid records when the gateway has no NATS', async () => {
    build();
    const res = await post(batch([record('fine')]));
    expect(res.statusCode).toBe(503);
  });

  it('refuses a body above the HTTP limit with 413 naming the limit', async () => {
    build();
    const res = await appUnderTest().inject({
      method: 'POST',
      url: '/logs/v1/records',
      payload: JSON.stringify(batch([record('z'.repeat(9 * 1024 * 1024))])),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json<{ error: string }>().error).toMatch(
      /^body: larger than the limit of 8388608 bytes \(8 MiB\)/,
    );
  });
});
