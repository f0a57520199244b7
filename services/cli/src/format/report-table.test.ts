import { ReportRow } from '@panda/proto';
import type { WorkflowReport } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { formatReportTable } from './report-table.js';

const row = (label: string, values: Partial<ReportRow> = {}) => ReportRow.fromPartial({ label, ...values });

const report: WorkflowReport = {
  workflow: {
    workflowId: 42,
    name: 'two-step',
    user: 'alice',
    campaign: 'quick',
    queue: 'LOCAL',
    state: 'Transforming',
    counts: undefined,
    createdAt: undefined,
    updatedAt: undefined,
  },
  rows: [
    row('pipetaskInit', { succeeded: 1, expected: 1 }),
    row('calibrate', { running: 12, unready: 3, succeeded: 1085, failed: 2, expected: 1102 }),
  ],
  total: row('TOTAL', { running: 12, unready: 3, succeeded: 1086, failed: 2, expected: 1103 }),
  exitCodes: [],
};

describe('formatReportTable', () => {
  it('renders header, one row per label in order, and TOTAL, numbers right-aligned', () => {
    expect(formatReportTable(report)).toBe(
      [
        'workflow 42  state Transforming  name two-step',
        '',
        'LABEL         UNKNOWN  MISFIT  UNREADY  READY  PENDING  RUNNING  DELETED  HELD  SUCCEEDED  FAILED  PRUNED  EXPECTED',
        'pipetaskInit        0       0        0      0        0        0        0     0          1       0       0         1',
        'calibrate           0       0        3      0        0       12        0     0       1085       2       0      1102',
        'TOTAL               0       0        3      0        0       12        0     0       1086       2       0      1103',
      ].join('\n'),
    );
  });

  it('widens a column for a number longer than its title', () => {
    const wide = { ...report, rows: [row('x', { held: 123456 })], total: row('TOTAL', { held: 123456 }) };
    const lines = formatReportTable(wide).split('\n');
    expect(lines[2]).toContain('    HELD');
    expect(lines[3]).toContain('  123456');
    const end = (line: string | undefined, word: string) => (line ?? '').indexOf(word) + word.length;
    expect(end(lines[2], 'HELD')).toBe(end(lines[3], '123456'));
  });

  it('prints zeros for a missing total and no rows', () => {
    const lines = formatReportTable({
      workflow: report.workflow,
      rows: [],
      total: undefined,
      exitCodes: [],
    }).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^TOTAL(\s+0){12}$/);
  });
});
