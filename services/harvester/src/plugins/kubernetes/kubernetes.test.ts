import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@panda/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesSubmitter } from './kubernetes.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are loose JSON here */

/**
 * The Kubernetes API calls the plugin makes, answered from memory: Jobs are created as posted,
 * each listed with one Pod (`<job name>-abcde`, Running) once `podsAppear` is set.
 */
describe('KubernetesSubmitter: walltime and log URL', () => {
  const jobs: any[] = [];
  let podsAppear = false;
  let server: Server;
  let dir: string;
  let plugin: KubernetesSubmitter;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (body: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      };
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        if (req.method === 'POST' && url.pathname === '/apis/batch/v1/namespaces/panda-workers/jobs') {
          const job = JSON.parse(raw) as any;
          jobs.push(job);
          return send(job);
        }
        if (req.method === 'GET' && url.pathname === '/apis/batch/v1/namespaces/panda-workers/jobs')
          return send({ apiVersion: 'batch/v1', kind: 'JobList', metadata: {}, items: jobs });
        if (req.method === 'GET' && url.pathname === '/api/v1/namespaces/panda-workers/pods') {
          const items = podsAppear
            ? jobs.map((j) => ({
                metadata: { name: `${j.metadata.name}-abcde`, labels: j.spec.template.metadata.labels },
                spec: j.spec.template.spec,
                status: { phase: 'Running' },
              }))
            : [];
          return send({ apiVersion: 'v1', kind: 'PodList', metadata: {}, items });
        }
        res.statusCode = 404;
        send({ kind: 'Status', code: 404 });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'harvester-kube-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'panda-workers' } }],
        'current-context': 'c',
      }),
    );
    plugin = new KubernetesSubmitter({
      kubeconfig,
      namespace: 'panda-workers',
      command: 'pilot',
      gatewayUrl: 'http://gw',
      heartbeatS: 60,
      logger: createLogger({ service: 'harvester-test', level: 'silent' }),
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("records the Job's deadline as walltime and the pod's log path once the pod is seen", async () => {
    // when a worker is submitted with the queue's maxtime
    const result = await plugin.submit({
      workerId: 'W-1',
      queue: 'Q',
      cores: 1,
      memoryMb: 1000,
      walltimeS: 7200,
      params: {},
    });
    // then its walltime is the Job's activeDeadlineSeconds and its log the pod list by label
    expect(jobs[0].spec.activeDeadlineSeconds).toBe(7200);
    expect(result).toMatchObject({
      batchId: 'panda-w-1',
      state: 'submitted',
      walltimeS: 7200,
      logUrl: '/api/v1/namespaces/panda-workers/pods?labelSelector=panda%2Fworker%3DW-1',
    });
    const ref = { workerId: 'W-1', queue: 'Q', batchId: result.batchId, logUrl: result.logUrl };
    // and while no pod exists, check gives no log URL
    const [before] = await plugin.check([ref]);
    expect(before).toMatchObject({ state: 'submitted', nativeStatus: 'Job without Pod' });
    expect(before!.logUrl).toBeUndefined();
    // and once the pod exists, the exact path of its log
    podsAppear = true;
    const [after] = await plugin.check([ref]);
    expect(after).toMatchObject({
      state: 'running',
      logUrl: '/api/v1/namespaces/panda-workers/pods/panda-w-1-abcde/log',
    });
  });
});
