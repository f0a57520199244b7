import { ReportRow } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { dagSvg, layoutDag } from './dag.js';

const row = (label: string, failed = 0) =>
  ReportRow.fromPartial({ label, succeeded: 1, failed, expected: 1 + failed });

describe('DAG of labels', () => {
  it('layers labels by longest path from a root', () => {
    const { columns } = layoutDag(
      ['init', 'isr', 'calib', 'extra'],
      [
        { parent: 'init', child: 'isr' },
        { parent: 'isr', child: 'calib' },
        { parent: 'init', child: 'calib' },
      ],
    );
    expect(columns).toEqual([['init', 'extra'], ['isr'], ['calib']]);
  });

  it('renders escaped labels and marks labels with failures', () => {
    const svg = dagSvg([row('<b>x</b>'), row('mid', 2)], [{ parent: '<b>x</b>', child: 'mid' }]).value;
    expect(svg).not.toContain('<b>x</b>');
    expect(svg).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(svg).toContain('class="node failed" data-label="mid"');
    expect(svg.match(/<line\s/g)).toHaveLength(1);
  });
});
