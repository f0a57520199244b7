import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportRow } from '@panda/proto';
import type { Workflow, WorkflowReport, WorkflowSpec } from '@panda/proto';
import { ClientError, Status } from 'nice-grpc-common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from './commands/context.js';
import type { WorkflowClient } from './grpc/services.js';
import { runCli } from './program.js';

const workflow = (state: string, finished = 0): Workflow => ({
  workflowId: 42,
  name: 'two-step',
  user: 'alice',
  campaign: 'quick',
  queue: 'LOCAL',
  state,
  counts: {
    total: 2,
    released: 2,
    unreleased: 0,
    processing: 0,
    finished,
    failed: 0,
    pruned: 0,
    remaining: 2 - finished,
  },
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:01:00Z'),
});

/** A label with one job, succeeded. */
const zeroRow = (label: string) => ReportRow.fromPartial({ label, succeeded: 1, expected: 1 });

/** In-memory idds: GetWorkflow walks through `states` one call at a time. */
class FakeIdds implements WorkflowClient {
  submitted: WorkflowSpec[] = [];
  constructor(
    private readonly states: string[],
    private readonly submitError?: ClientError,
  ) {}
  submitWorkflow(req: { workflow?: unknown }) {
    if (this.submitError) return Promise.reject(this.submitError);
    this.submitted.push(req.workflow as WorkflowSpec);
    return Promise.resolve({ workflowId: 42 });
  }
  getWorkflow(req: { workflowId?: number }) {
    if (req.workflowId !== 42) return Promise.reject(new ClientError('/x', Status.NOT_FOUND, 'nope'));
    const state =
      this.states.length > 1 ? (this.states.shift() ?? 'Transforming') : (this.states[0] ?? 'Transforming');
    return Promise.resolve(workflow(state, state === 'Finished' ? 2 : 0));
  }
  submitWorkflowStream(): Promise<{ workflowId: number }> {
    return Promise.reject(
      new ClientError('/x', Status.UNIMPLEMENTED, 'not in this fake (see submit-ndjson.test.ts)'),
    );
  }
  cancelWorkflow(req: { workflowId?: number }): Promise<Workflow> {
    if (req.workflowId !== 42) return Promise.reject(new ClientError('/x', Status.NOT_FOUND, 'nope'));
    return Promise.resolve(workflow('Cancelled', 0));
  }
  restartWorkflow(): Promise<Workflow> {
    return Promise.reject(new ClientError('/RestartWorkflow', Status.UNIMPLEMENTED, 'Method not found'));
  }
  getReport(req: { workflowId?: number }): Promise<WorkflowReport> {
    if (req.workflowId !== 42) return Promise.reject(new ClientError('/x', Status.NOT_FOUND, 'nope'));
    return Promise.resolve({
      workflow: workflow('Finished', 2),
      rows: [zeroRow('init'), zeroRow('calib')],
      total: { ...zeroRow('TOTAL'), succeeded: 2, expected: 2 },
      exitCodes: [],
    });
  }
}

/** A service whose every call fails as unreachable. */
const unreachable =
  <C>(name: string) =>
  (): { name: string; address: string; client: C } => ({
    name,
    address: '127.0.0.1:1',
    client: new Proxy({} as object, {
      get: () => () => Promise.reject(new ClientError('/x', Status.UNAVAILABLE, 'No connection established')),
    }) as C,
  });

function harness(idds: WorkflowClient) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = {
    services: {
      idds: () => ({ name: 'idds', address: '127.0.0.1:1', client: idds }),
      jobs: unreachable('server'),
      queues: unreachable('server'),
      tasks: unreachable('jedi'),
      workers: unreachable('harvester'),
    },
    output: { out: (l) => out.push(l), err: (l) => err.push(l) },
    signal: new AbortController().signal,
    sleep: () => Promise.resolve(),
    pollIntervalMs: 0,
  };
  return { ctx, out, err, run: (...args: string[]) => runCli(args, ctx) };
}

let dir = '';
let file = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'panda-cli-'));
  file = join(dir, 'wf.yaml');
  await writeFile(file, 'name: two-step\njobs:\n  - {name: init, label: init, command: "true"}\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('panda submit', () => {
  it('submits and prints the id', async () => {
    const idds = new FakeIdds([]);
    const h = harness(idds);
    expect(await h.run('submit', file)).toBe(0);
    expect(h.out).toEqual(['workflow 42 submitted']);
    expect(idds.submitted[0]?.jobs[0]).toMatchObject({ name: 'init', memoryMb: 0, cores: 0 });
  });

  it('prints exactly {"workflowId": <id>} with --json', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('submit', file, '--json')).toBe(0);
    expect(h.out).toEqual(['{"workflowId": 42}']);
  });

  it('--wait prints progress until Finished and exits 0', async () => {
    const h = harness(new FakeIdds(['Transforming', 'Transforming', 'Finished']));
    expect(await h.run('submit', file, '--wait')).toBe(0);
    expect(h.out).toEqual([
      'workflow 42 submitted',
      'workflow 42 Transforming: 0 finished, 0 failed, 0 pruned, 2 remaining of 2',
      'workflow 42 Finished: 2 finished, 0 failed, 0 pruned, 0 remaining of 2',
    ]);
  });

  it('--wait exits 1 when the workflow ends not Finished; --json keeps stdout one document', async () => {
    const h = harness(new FakeIdds(['Transforming', 'SubFinished']));
    expect(await h.run('submit', file, '--wait', '--json')).toBe(1);
    expect(h.out).toEqual(['{"workflowId": 42}']);
    expect(h.err.at(-1)).toContain('SubFinished');
  });

  it('exits 2 with the server message on INVALID_ARGUMENT', async () => {
    const bad = new ClientError('/x', Status.INVALID_ARGUMENT, 'jobs[0] (init): unknown parent "x"');
    const h = harness(new FakeIdds([], bad));
    expect(await h.run('submit', file)).toBe(2);
    expect(h.err).toEqual(['error: jobs[0] (init): unknown parent "x"']);
  });

  it('exits 2 on an invalid file without calling the service', async () => {
    const idds = new FakeIdds([]);
    const h = harness(idds);
    expect(await h.run('submit', join(dir, 'missing.yaml'))).toBe(2);
    expect(idds.submitted).toEqual([]);
  });
});

describe('panda status', () => {
  it('prints a few lines', async () => {
    const h = harness(new FakeIdds(['Transforming']));
    expect(await h.run('status', '42')).toBe(0);
    expect(h.out[0]).toContain('state     Transforming');
  });

  it('prints the workflow as JSON', async () => {
    const h = harness(new FakeIdds(['Transforming']));
    expect(await h.run('status', '42', '--json')).toBe(0);
    expect(JSON.parse(h.out.join('\n'))).toEqual({
      workflowId: 42,
      name: 'two-step',
      user: 'alice',
      campaign: 'quick',
      queue: 'LOCAL',
      state: 'Transforming',
      counts: {
        total: 2,
        released: 2,
        unreleased: 0,
        processing: 0,
        finished: 0,
        failed: 0,
        pruned: 0,
        remaining: 2,
      },
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:01:00.000Z',
    });
  });

  it('exits 3 for an unknown workflow', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('status', '7')).toBe(3);
    expect(h.err).toEqual(['error: workflow 7 not found']);
  });

  it('exits 2 for a bad id or unknown option', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('status', 'abc')).toBe(2);
    expect(await h.run('status', '42', '--bogus')).toBe(2);
    expect(await h.run('nope')).toBe(2);
  });
});

describe('panda report', () => {
  it('prints the table', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('report', '42')).toBe(0);
    const lines = h.out.join('\n').split('\n');
    expect(lines[0]).toBe('workflow 42  state Finished  name two-step');
    expect(lines.slice(3).map((l) => l.split(/\s+/)[0])).toEqual(['init', 'calib', 'TOTAL']);
  });

  it('prints {workflow, rows, total} with --json', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('report', '42', '--json')).toBe(0);
    const json = JSON.parse(h.out.join('\n')) as { workflow: Workflow; rows: ReportRow[]; total: ReportRow };
    expect(json.workflow.state).toBe('Finished');
    expect(json.rows.map((r) => r.label)).toEqual(['init', 'calib']);
    expect(json.total.succeeded).toBe(2);
  });

  it('exits 3 for an unknown workflow', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('report', '9')).toBe(3);
    expect(h.err).toEqual(['error: workflow 9 not found']);
  });
});

describe('panda cancel / restart', () => {
  it('cancel prints the workflow and exits 0; an unknown id exits 3', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('cancel', '42')).toBe(0);
    expect(h.out[0]).toContain('workflow 42 Cancelled');
    expect(await h.run('cancel', '7')).toBe(3);
  });

  it('exits 2 with a clear message while idds does not implement the RPC', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('restart', '42')).toBe(2);
    expect(h.err).toEqual([
      'error: restart is not yet supported by idds (no RestartWorkflow RPC); nothing was changed',
    ]);
  });

  it('refuses a bad id with exit 2 before calling anything', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('cancel', 'abc')).toBe(2);
    expect(h.err[0]).toContain("invalid workflow id 'abc'");
  });
});

describe('panda commands against an unreachable service', () => {
  it.each([
    [['tasks', '1'], 'jedi'],
    [['task', '1'], 'jedi'],
    [['jobs', '--task', '1'], 'server'],
    [['job', '1'], 'server'],
    [['queues'], 'server'],
    [['workers'], 'harvester'],
  ])('%j exits 4 naming %s', async (args, service) => {
    const h = harness(new FakeIdds([]));
    expect(await h.run(...args)).toBe(4);
    expect(h.err[0]).toBe(`error: cannot reach ${service} at 127.0.0.1:1`);
  });

  it('logs without a monitor URL is a usage error (2)', async () => {
    const h = harness(new FakeIdds([]));
    expect(await h.run('logs', '5')).toBe(2);
    expect(h.err[0]).toContain('PANDA_MONITOR_URL');
  });
});
