import type {
  GetReportRequest,
  GetWorkflowRequest,
  ListWorkflowsRequest,
  ListWorkflowsResponse,
  Workflow,
  WorkflowReport,
} from '@panda/proto';
import { ReportRow } from '@panda/proto';
import type { FastifyInstance } from 'fastify';
import { ClientError, Status } from 'nice-grpc-common';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMonitorServer } from '../http/server.js';
import type { WorkflowReader } from '../idds/workflows.js';

type DeepPartialReq<T> = { [K in keyof T]?: T[K] };

const workflow = (workflowId: number, over: Partial<Workflow> = {}): Workflow => ({
  workflowId,
  name: `wf-${workflowId}`,
  user: 'alice',
  campaign: 'quick',
  queue: 'LOCAL',
  state: 'Transforming',
  counts: {
    total: 3,
    released: 2,
    unreleased: 1,
    processing: 1,
    finished: 1,
    failed: 0,
    pruned: 0,
    remaining: 2,
  },
  createdAt: new Date('2026-01-02T03:04:05Z'),
  updatedAt: new Date('2026-01-02T03:05:00Z'),
  ...over,
});

const row = (label: string, running: number) =>
  ReportRow.fromPartial({ label, running, succeeded: 1, expected: running + 1 });

/** In-memory idds for the HTTP layer's tests; `down` makes every call fail as unreachable. */
class FakeIdds implements WorkflowReader {
  down = false;
  listRequests: DeepPartialReq<ListWorkflowsRequest>[] = [];
  constructor(readonly workflows: Workflow[]) {}

  private check(path: string): void {
    if (this.down) throw new ClientError(path, Status.UNAVAILABLE, 'No connection established');
  }
  private find(path: string, id: number | undefined): Workflow {
    const w = this.workflows.find((x) => x.workflowId === id);
    if (!w) throw new ClientError(path, Status.NOT_FOUND, `workflow ${id} not found`);
    return w;
  }
  async getWorkflow(req: DeepPartialReq<GetWorkflowRequest>): Promise<Workflow> {
    this.check('/GetWorkflow');
    return this.find('/GetWorkflow', req.workflowId);
  }
  async listWorkflows(req: DeepPartialReq<ListWorkflowsRequest>): Promise<ListWorkflowsResponse> {
    this.check('/ListWorkflows');
    this.listRequests.push(req);
    if (req.state === 'Bogus')
      throw new ClientError('/ListWorkflows', Status.INVALID_ARGUMENT, 'state: unknown state Bogus');
    const matching = this.workflows.filter(
      (w) => (!req.user || w.user === req.user) && (!req.state || w.state === req.state),
    );
    return { workflows: req.limit ? matching.slice(0, req.limit) : matching };
  }
  async getReport(req: DeepPartialReq<GetReportRequest>): Promise<WorkflowReport> {
    this.check('/GetReport');
    const w = this.find('/GetReport', req.workflowId);
    return {
      workflow: w,
      rows: [row('init', 0), row('calib', 2)],
      total: { ...row('TOTAL', 2), succeeded: 2, expected: 4 },
      exitCodes: [],
    };
  }
}

let app: FastifyInstance | undefined;
function setup(workflows: Workflow[] = [workflow(1), workflow(2, { user: 'bob', state: 'Finished' })]) {
  const idds = new FakeIdds(workflows);
  app = buildMonitorServer({ idds: { client: idds, address: '127.0.0.1:5999' } });
  return { idds, app };
}
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('monitor HTTP', () => {
  it('GET /healthz', async () => {
    const res = await setup().app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET / redirects to /workflows, keeping the query', async () => {
    const res = await setup().app.inject('/?user=bob');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/workflows?user=bob');
  });

  it('GET /workflows renders the table with links', async () => {
    const res = await setup().app.inject('/workflows');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<a href="/workflows/1">1</a>');
    expect(res.body).toContain('<a href="/workflows/2">2</a>');
    expect(res.body).toContain('http-equiv="refresh"');
  });

  it('GET /workflows?json and Accept: application/json give the same data, filters passed through', async () => {
    const { app, idds } = setup();
    const a = await app.inject('/workflows?json&user=bob&state=Finished&limit=5');
    const b = await app.inject({
      url: '/workflows?user=bob&state=Finished&limit=5',
      headers: { accept: 'application/json' },
    });
    expect(a.statusCode).toBe(200);
    expect(a.json()).toEqual(b.json());
    expect(a.json()).toEqual({
      workflows: [
        {
          workflowId: 2,
          name: 'wf-2',
          user: 'bob',
          campaign: 'quick',
          queue: 'LOCAL',
          state: 'Finished',
          counts: {
            total: 3,
            released: 2,
            unreleased: 1,
            processing: 1,
            finished: 1,
            failed: 0,
            pruned: 0,
            remaining: 2,
          },
          createdAt: '2026-01-02T03:04:05.000Z',
          updatedAt: '2026-01-02T03:05:00.000Z',
        },
      ],
    });
    expect(idds.listRequests[0]).toEqual({ user: 'bob', state: 'Finished', limit: 5 });
  });

  it('GET /workflows refuses a bad limit with 400', async () => {
    const res = await setup().app.inject('/workflows?limit=ten&json');
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: string }>().error).toContain('limit');
  });

  it("passes idds's INVALID_ARGUMENT message on as 400", async () => {
    const res = await setup().app.inject('/workflows?state=Bogus&json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'state: unknown state Bogus' });
  });

  it('GET /workflows/:id renders the header and report', async () => {
    const res = await setup().app.inject('/workflows/1');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Workflow 1: wf-1');
    expect(res.body).toMatch(/<tr class="total"><td>TOTAL<\/td>/);
    expect(res.body).toContain('<td>calib</td>');
  });

  it('GET /workflows/:id as JSON is {workflow, rows, total}', async () => {
    const res = await setup().app.inject('/workflows/1?json');
    const body = res.json<{ workflow: { workflowId: number }; rows: ReportRow[]; total: ReportRow }>();
    expect(body.workflow.workflowId).toBe(1);
    expect(body.rows.map((r) => r.label)).toEqual(['init', 'calib']);
    expect(body.total.expected).toBe(4);
  });

  it('unknown workflow: 404 page and JSON', async () => {
    const { app } = setup();
    const json = await app.inject('/workflows/42?json');
    expect(json.statusCode).toBe(404);
    expect(json.json()).toEqual({ error: 'workflow 42 not found' });
    const page = await app.inject('/workflows/42');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('workflow 42 not found');
  });

  it('bad id: 400', async () => {
    const res = await setup().app.inject('/workflows/abc?json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "invalid workflow id 'abc'" });
  });

  it('idds unreachable: 503 with a clear message', async () => {
    const { app, idds } = setup();
    idds.down = true;
    for (const url of ['/workflows?json', '/workflows/1?json']) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(503);
      expect(res.json<{ error: string }>().error).toContain('cannot reach idds at 127.0.0.1:5999');
    }
    const page = await app.inject('/workflows');
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('cannot reach idds at 127.0.0.1:5999');
  });

  it('escapes user data in pages', async () => {
    const { app } = setup([workflow(7, { name: '<script>alert(1)</script>', user: '"><b>' })]);
    for (const url of ['/workflows', '/workflows/7', '/workflows?user=%3Cscript%3E']) {
      const res = await app.inject(url);
      expect(res.body).not.toContain('<script>');
      expect(res.body).not.toContain('"><b>');
    }
  });

  it('unknown path: 404', async () => {
    const res = await setup().app.inject({ url: '/nope', headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'no page at /nope' });
  });
});
