import { workflowToJson } from '@panda/platform';
import { ReportRow } from '@panda/proto';
import type { Workflow, WorkflowReport } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { renderErrorPage } from './error-page.js';
import { renderWorkflowDetail } from './workflow-detail.js';
import { renderWorkflowList } from './workflow-list.js';

/** Rendered markup is prettier-formatted: compare text with whitespace collapsed. */
const flat = (s: string): string => s.replace(/\s+/g, ' ');
const REFRESH_5 = /<meta http-equiv="refresh" content="5"\s*\/?>/;

const evil = '<img src=x onerror="alert(1)">';

const workflow = (over: Partial<Workflow> = {}): Workflow => ({
  workflowId: 42,
  name: 'two-step',
  user: 'alice',
  campaign: 'quick',
  queue: 'LOCAL',
  state: 'Transforming',
  counts: {
    total: 10,
    released: 6,
    unreleased: 4,
    processing: 2,
    finished: 3,
    failed: 1,
    pruned: 0,
    remaining: 6,
  },
  createdAt: new Date('2026-01-02T03:04:05Z'),
  updatedAt: new Date('2026-01-02T03:05:00Z'),
  ...over,
});

const row = (label: string, values: Partial<ReportRow> = {}) => ReportRow.fromPartial({ label, ...values });

/** The text of every cell of the table rows, tags stripped. */
const cells = (page: string): string[][] =>
  [...page.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) =>
      flat((c[1] ?? '').replace(/<[^>]+>/g, '')).trim(),
    ),
  );

describe('renderWorkflowList', () => {
  it('shows one row per workflow with its counts and a link to it', () => {
    const page = renderWorkflowList(
      [workflow(), workflow({ workflowId: 43, state: 'Finished' })].map(workflowToJson),
      {},
      '/workflows?json',
    );
    const table = cells(page);
    expect(table[0]).toEqual([
      'id',
      'name',
      'user',
      'campaign',
      'state',
      'total',
      'released',
      'processing',
      'finished',
      'failed',
      'pruned',
      'remaining',
      'created',
    ]);
    expect(table[1]).toEqual([
      '42',
      'two-step',
      'alice',
      'quick',
      'Transforming',
      '10',
      '6',
      '2',
      '3',
      '1',
      '0',
      '6',
      '2026-01-02 03:04:05',
    ]);
    expect(page).toContain('<a href="/workflows/42">42</a>');
    expect(page).toContain('<a href="/workflows/43">43</a>');
    expect(page).toContain('class="state state-finished"');
    expect(page).toMatch(REFRESH_5);
    expect(page).toContain('href="/workflows?json"');
  });

  it('escapes user-provided fields and filters', () => {
    const page = renderWorkflowList(
      [workflow({ name: evil, user: evil, campaign: evil, state: evil })].map(workflowToJson),
      { user: '"><script>x</script>' },
      '/workflows?json',
    );
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(page).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it('says so when there are no workflows', () => {
    expect(flat(renderWorkflowList([], { state: 'Failed' }, '/x'))).toContain(
      'No workflows match these filters.',
    );
  });
});

describe('renderWorkflowDetail', () => {
  const report: WorkflowReport = {
    workflow: workflow(),
    rows: [
      row('pipetaskInit', { succeeded: 1, expected: 1 }),
      row('calibrate', { running: 2, unready: 5, failed: 1, expected: 9 }),
    ],
    total: row('TOTAL', { succeeded: 1, running: 2, unready: 5, failed: 1, expected: 10 }),
    exitCodes: [],
  };

  it('shows the header and the per-label table with a TOTAL row', () => {
    const page = renderWorkflowDetail(report, '/workflows/42?json');
    expect(page).toContain('<h1>Workflow 42: two-step</h1>');
    expect(flat(page)).toContain(
      '10 total: 6 released, 4 unreleased, 2 processing, 3 finished, 1 failed, 0 pruned, 6 remaining',
    );
    const table = cells(page);
    expect(table[0]).toEqual([
      'LABEL',
      'UNKNOWN',
      'MISFIT',
      'UNREADY',
      'READY',
      'PENDING',
      'RUNNING',
      'DELETED',
      'HELD',
      'SUCCEEDED',
      'FAILED',
      'PRUNED',
      'EXPECTED',
    ]);
    expect(table.slice(1).map((r) => r[0])).toEqual(['pipetaskInit', 'calibrate', 'TOTAL']);
    expect(table[2]).toEqual(['calibrate', '0', '0', '5', '0', '0', '2', '0', '0', '0', '1', '0', '9']);
    expect(table[3]?.at(-1)).toBe('10');
    expect(page).toMatch(REFRESH_5);
  });

  it('escapes labels and workflow fields', () => {
    const page = renderWorkflowDetail(
      { workflow: workflow({ name: evil, queue: evil }), rows: [row(evil)], total: undefined, exitCodes: [] },
      '/x',
    );
    expect(page).not.toContain('<img');
    expect(page).toContain('<title>Workflow 42 &lt;img');
  });
});

describe('renderErrorPage', () => {
  it('escapes the message; only 5xx pages refresh', () => {
    const notFound = renderErrorPage(404, `workflow ${evil} not found`);
    expect(notFound).not.toContain('<img');
    expect(notFound).not.toContain('http-equiv="refresh"');
    expect(renderErrorPage(503, 'cannot reach idds')).toContain('http-equiv="refresh"');
  });
});
