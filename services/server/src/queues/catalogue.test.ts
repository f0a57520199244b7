import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCatalogue } from './catalogue.js';

const example = readFileSync(new URL('../../../../config/queues.json', import.meta.url), 'utf8');

describe('queue catalogue', () => {
  it('loads the example catalogue', () => {
    const queues = parseCatalogue(example);
    expect(queues.map((q) => q.name)).toContain('SLAC_Rubin');
    expect(queues.find((q) => q.name === 'SLAC_Rubin_merge')?.status).toBe('brokeroff');
  });
  it('names the queue and field of a bad value', () => {
    const bad = JSON.parse(example) as { queues: { maxrss: unknown }[] };
    bad.queues[1]!.maxrss = 'lots';
    expect(() => parseCatalogue(JSON.stringify(bad))).toThrow(/queue SLAC_Rubin_Medium\.maxrss/);
  });
  it('refuses unknown fields and duplicate names', () => {
    const bad = JSON.parse(example) as { queues: Record<string, unknown>[] };
    bad.queues[0]!.colour = 'blue';
    expect(() => parseCatalogue(JSON.stringify(bad))).toThrow(/queue SLAC_Rubin/);
    const dup = JSON.parse(example) as { queues: unknown[] };
    dup.queues.push(dup.queues[0]);
    expect(() => parseCatalogue(JSON.stringify(dup))).toThrow(/defined twice/);
  });
});

describe('queue catalogue file', () => {
  it('reloads a changed file, and keeps the old catalogue when the new one is bad', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createLogger } = await import('@panda/platform');
    const { QueueCatalogue } = await import('./catalogue.js');
    const file = join(mkdtempSync(join(tmpdir(), 'q-')), 'queues.json');
    writeFileSync(file, example);
    const catalogue = new QueueCatalogue(file, createLogger({ service: 'test', level: 'silent' }));
    catalogue.watch();
    const edited = JSON.parse(example) as { queues: { name: string; status: string }[] };
    edited.queues[0]!.status = 'offline';
    writeFileSync(file, JSON.stringify(edited));
    await new Promise((r) => setTimeout(r, 600));
    expect(catalogue.get('SLAC_Rubin')?.status).toBe('offline');
    writeFileSync(file, '{ not json');
    await new Promise((r) => setTimeout(r, 600));
    expect(catalogue.get('SLAC_Rubin')?.status).toBe('offline');
    catalogue.close();
  });
});
