import { describe, expect, it } from 'vitest';
import { readOnlyUrl } from './connection.js';
import { errorSummaryQuery } from './errors.js';
import { jobListQuery } from './jobs.js';
import { toHistogram } from './tasks.js';
import { workflowListQuery } from './workflows.js';

describe('monitor SQL builders', () => {
  it('job list: every filter is a parameter, drop mode hides earlier attempts, keyset on panda_id', () => {
    const q = jobListQuery({
      taskId: 7,
      states: ['failed'],
      queue: "x'; DROP TABLE server.jobs; --",
      errorCode: 1305,
      attempt: 2,
      drop: true,
      before: 500,
      limit: 50,
    });
    expect(q.params).toEqual([7, ['failed'], "x'; DROP TABLE server.jobs; --", 2, 1305, 500, 51]);
    expect(q.text).not.toContain('DROP TABLE');
    expect(q.text).toContain('r.attempt_nr > j.attempt_nr');
    expect(q.text).toContain('j.panda_id < $6');
    expect(q.text).toMatch(/ORDER BY j\.panda_id DESC LIMIT \$7$/);
  });

  it('job list without filters has no WHERE', () => {
    expect(jobListQuery({ limit: 10 }).text).not.toContain('WHERE');
  });

  it('errors summary: one scan grouped four ways, window and filters as parameters', () => {
    const q = errorSummaryQuery({ days: 7, queue: 'Q', user: 'alice', limit: 1000 });
    expect(q.params).toEqual([7, 'Q', 'alice', 1000]);
    expect(q.text).toContain('GROUPING SETS');
    expect(q.text).toContain('user_name = $3');
  });

  it('workflow list: campaign and days filters, keyset', () => {
    const q = workflowListQuery({ campaign: 'c', days: 3, before: 9, limit: 20 });
    expect(q.params).toEqual(['c', 3, 9, 21]);
    expect(q.text).toContain("interval '1 day'");
  });

  it('histogram: fills empty buckets, clamps bucket numbers, handles one value', () => {
    const h = toHistogram('max PSS', 'MB', 4, [
      { lo: '0', hi: '40', b: 1, c: '2' },
      { lo: '0', hi: '40', b: 5, c: '1' }, // width_bucket gives bins+1 for the max value
    ]);
    expect(h.buckets.map((b) => b.count)).toEqual([2, 0, 0, 1]);
    expect(h.count).toBe(3);
    expect(toHistogram('d', 's', 4, [{ lo: 5, hi: 5, b: 1, c: 3 }]).buckets).toEqual([
      { from: 5, to: 6, count: 3 },
    ]);
    expect(toHistogram('d', 's', 4, []).count).toBe(0);
  });

  it('read-only URL keeps existing options and adds read-only and a timeout', () => {
    const url = new URL(readOnlyUrl('postgres://u@h:5/db?options=-c%20search_path%3Dx', 1500));
    expect(url.searchParams.get('options')).toBe(
      '-c search_path=x -c default_transaction_read_only=on -c statement_timeout=1500 -c jit=off -c work_mem=16MB',
    );
  });
});
