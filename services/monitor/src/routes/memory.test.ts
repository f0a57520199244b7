import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sql } from '@panda/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMonitorServer } from '../http/server.js';
import type { MonitorBackends } from '../backends.js';

const SERIES =
  'time\tpss\trss\tvmem\tswap\tutime\tstime\tnprocs\tnthreads\n1000\t1024\t2048\t4096\t0\t0\t0\t1\t1\n1004\t409600\t419840\t819200\t0\t3.1\t0.2\t2\t4\n';

/** Archive files the fake gateway has, by `<pandaId>/<name>`. */
const files = new Map<string, string>([
  ['1/memory_monitor_output.txt', SERIES],
  ['3/memory_monitor_output.txt', '<html>proxy error</html>\n'],
  ['4/memory_monitor_output.txt', 'time\tpss\trss\tvmem\tswap\n'],
]);
const requested: string[] = [];

/** Jobs 1-5 finished except 2 (running); 5 has no archive file; 1-4 have 2000 MB. */
const jobRow = (pandaId: number): Record<string, unknown> => ({
  panda_id: pandaId,
  task_id: 7,
  input_id: pandaId,
  workflow_id: 1,
  label: 'isr',
  name: `job-${pandaId}`,
  state: pandaId === 2 ? 'running' : 'finished',
  attempt_nr: 1,
  max_attempts: 3,
  memory_mb: pandaId === 5 ? 0 : 2000,
  cores: 1,
  errors: [],
  metrics: { maxPssKb: 409600 },
});
const sql: Sql = {
  query: async <T>(_text: string, params?: unknown[]) => {
    const id = Number(params?.[0]);
    return (id >= 1 && id <= 5 ? [jobRow(id)] : []) as T[];
  },
};

let gateway: Server;
let gatewayUrl: string;

beforeAll(async () => {
  gateway = createServer((req, res) => {
    requested.push(req.url ?? '');
    const m = /^\/logs\/v1\/jobs\/(\d+)\/archive\/([^/]+)$/.exec(req.url ?? '');
    const body = m ? files.get(`${m[1]}/${m[2]}`) : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such file"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => gateway.close(resolve));
});

const app = (over: Partial<MonitorBackends> = {}) =>
  buildMonitorServer({
    idds: { client: {} as never, address: 'idds:1' },
    db: sql,
    gatewayUrl,
    ...over,
  });

interface MemoryJson {
  status: string;
  message: string;
  limitMb: number | null;
  samples: { t: number; pssKb: number }[];
}

async function memoryJson(pandaId: number, over: Partial<MonitorBackends> = {}): Promise<MemoryJson> {
  const res = await app(over).inject({ url: `/jobs/${pandaId}/memory?json` });
  expect(res.statusCode).toBe(200);
  return res.json<MemoryJson>();
}

describe('memory time series of a job', () => {
  it("a finished job's series: JSON samples and a plot with a path per line and the limit line", async () => {
    const json = await memoryJson(1);
    expect(json.status).toBe('ok');
    expect(json.limitMb).toBe(2000);
    expect(json.samples.map((s) => [s.t, s.pssKb])).toEqual([
      [0, 1024],
      [4, 409600],
    ]);
    for (const url of ['/jobs/1/memory', '/jobs/1']) {
      const page = await app().inject({ url });
      expect(page.statusCode, url).toBe(200);
      expect(page.body).toMatch(/<svg\s+class="memory"/);
      expect(page.body.match(/<path d="M/g)).toHaveLength(4);
      expect(page.body).toContain('data-limit-mb="2000"');
      expect(page.body.replace(/\s+/g, ' ')).toMatch(/max PSS 400\.0 MB/);
    }
  });

  it('a running job: says the series comes with the archive at the end, without asking the gateway', async () => {
    requested.length = 0;
    const json = await memoryJson(2);
    expect(json.status).toBe('pending');
    expect(json.message).toMatch(/the job is running: .* when the job ends/);
    const page = await app().inject({ url: '/jobs/2' });
    expect(page.body).toContain('data-memory="pending"');
    expect(page.body).not.toContain('<svg class="memory"');
    expect(requested).toEqual([]);
  });

  it('a malformed, empty or missing file, or no gateway, is said so on a 200 page, never a 500', async () => {
    expect(await memoryJson(3)).toMatchObject({ status: 'malformed', samples: [] });
    expect((await memoryJson(3)).message).toMatch(/not a memory series: the header has no time/);
    expect(await memoryJson(4)).toMatchObject({ status: 'empty', samples: [] });
    expect(await memoryJson(5)).toMatchObject({ status: 'missing', limitMb: null });
    expect(await memoryJson(1, { gatewayUrl: 'http://127.0.0.1:1' })).toMatchObject({
      status: 'unavailable',
    });
    expect(await memoryJson(1, { gatewayUrl: undefined })).toMatchObject({ status: 'unavailable' });
    for (const id of [3, 4, 5]) {
      const page = await app().inject({ url: `/jobs/${id}` });
      expect(page.statusCode).toBe(200);
      expect(page.body).toMatch(/data-memory="(malformed|empty|missing)"/);
    }
    const unknown = await app().inject({ url: '/jobs/99/memory?json' });
    expect(unknown.statusCode).toBe(404);
  });
});
