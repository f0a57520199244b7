import { describe, expect, it } from 'vitest';
import { MalformedSeriesError, parseMemorySeries } from './series.js';

// As the pilot writes it (services/pilot/src/monitor/memory-monitor.ts): tabs, Unix s, kB.
const PILOT_FILE = [
  'time\tpss\trss\tvmem\tswap\tutime\tstime\tnprocs\tnthreads',
  '1767322000\t1024\t2048\t8192\t0\t0.01\t0.00\t1\t1',
  '1767322001\t51200\t52224\t65536\t0\t0.52\t0.03\t2\t3',
  '1767322003\t102400\t104448\t131072\t512\t1.90\t0.10\t2\t3',
  '',
].join('\n');

describe('parseMemorySeries', () => {
  it("reads the pilot's file: seconds since the first sample, sizes in kB, every column", () => {
    const { samples, skipped, header } = parseMemorySeries(PILOT_FILE);
    expect(header).toBe(true);
    expect(skipped).toBe(0);
    expect(samples.map((s) => s.t)).toEqual([0, 1, 3]);
    expect(samples[2]).toEqual({
      time: 1767322003,
      t: 3,
      pssKb: 102400,
      rssKb: 104448,
      vmemKb: 131072,
      swapKb: 512,
      utimeS: 1.9,
      stimeS: 0.1,
      processes: 2,
      threads: 3,
    });
  });

  it("reads prmon's header too: other order, other case, extra columns", () => {
    const text = 'Time\tVMEM\tPSS\tRSS\tSwap\trchar\n100\t900\t300\t400\t0\t7\n160\t950\t310\t420\t5\t9\n';
    const { samples } = parseMemorySeries(text);
    expect(samples.map((s) => [s.t, s.pssKb, s.rssKb, s.vmemKb, s.swapKb])).toEqual([
      [0, 300, 400, 900, 0],
      [60, 310, 420, 950, 5],
    ]);
  });

  it("reads a file cut at its start (no header) with the pilot's columns, skipping the partial line", () => {
    const cut = PILOT_FILE.split('\n').slice(1).join('\n').slice(12); // starts mid-line
    const { samples, skipped, header } = parseMemorySeries(cut);
    expect(header).toBe(false);
    expect(skipped).toBe(1);
    expect(samples.map((s) => s.pssKb)).toEqual([51200, 102400]);
    expect(samples[0]?.t).toBe(0);
  });

  it('skips garbled lines, counts them, and sorts by time', () => {
    const text = `${PILOT_FILE}1767322002\tNaN\t1\t1\t1\t0\t0\t1\t1\nnot a line\n1767322002\t70000\t1\t1\t1\t0\t0\t1\t1\n`;
    const { samples, skipped } = parseMemorySeries(text);
    expect(skipped).toBe(2);
    expect(samples.map((s) => s.t)).toEqual([0, 1, 2, 3]);
  });

  it('a header alone is an empty series, not an error', () => {
    expect(parseMemorySeries('time\tpss\trss\tvmem\tswap\n')).toEqual({
      samples: [],
      skipped: 0,
      header: true,
    });
    expect(parseMemorySeries('')).toEqual({ samples: [], skipped: 0, header: false });
  });

  it('a file that is not a series is malformed, with the reason', () => {
    expect(() => parseMemorySeries('time\tcpu\n1\t2\n')).toThrow(MalformedSeriesError);
    expect(() => parseMemorySeries('time\tcpu\n1\t2\n')).toThrow(/no pss, rss, vmem, swap column/);
    expect(() => parseMemorySeries('<html>oops</html>\n<body>\n')).toThrow(/header has no time/);
    expect(() => parseMemorySeries('1 2 3\n4 5 6\n')).toThrow(/none of its 2 line\(s\) is a sample/);
  });
});
