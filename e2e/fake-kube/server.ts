import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { customResources } from './custom-resources.js';
import type { CustomResources } from './custom-resources.js';
import { matches, parseSelector } from './selector.js';
import { parseQuantity, runContainer } from './runner.js';
import type { RunningContainer } from './runner.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are loose JSON here */
type Obj = Record<string, any>;

export interface FakeKube {
  url: string;
  /** A kubeconfig pointing at this server (token auth, plain HTTP). */
  kubeconfig: string;
  /** Current pods (as served by the API). */
  pods(): Obj[];
  jobs(): Obj[];
  configMaps(): Obj[];
  /** PandaQueue custom resources (panda.rubin.org/v1alpha1), with list/watch/patch and /status. */
  pandaQueues: CustomResources;
  /** Every request seen, `METHOD path`. */
  requests: string[];
  /** Every Job as created (also those deleted since). */
  created: Obj[];
  stop(): Promise<void>;
}

const NODE_NAME = 'fake-node';

/**
 * A small fake Kubernetes API server for the batch/v1 Job and v1 Pod endpoints harvester uses
 * (create, get, list by label selector, delete) plus Secrets, ConfigMaps and the PandaQueue
 * custom resource. Each Job gets one Pod whose container command runs as a local process group
 * with the container's env (values, secretKeyRef, fieldRef spec.nodeName); phases and container
 * states are reported as the kubelet would, including OOMKilled when the group's RSS exceeds the
 * memory limit. ConfigMap volumes are written into the pod's folder, and the mount path is
 * rewritten to that folder in the container's env values (there is no container filesystem).
 */
export async function startFakeKube(dir: string): Promise<FakeKube> {
  mkdirSync(dir, { recursive: true });
  const token = randomBytes(16).toString('hex');
  const jobs = new Map<string, Obj>();
  const pods = new Map<string, Obj>();
  const secrets = new Map<string, Obj>();
  const configMaps = new Map<string, Obj>();
  const pandaQueues = customResources({
    group: 'panda.rubin.org',
    version: 'v1alpha1',
    plural: 'pandaqueues',
    kind: 'PandaQueue',
  });
  const running = new Map<string, RunningContainer>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: string[] = [];
  const created: Obj[] = [];
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const now = () => new Date().toISOString();

  const status = (res: ServerResponse, code: number, reason: string, message: string) =>
    send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });

  function deleteJob(ns: string, name: string): boolean {
    const job = jobs.get(key(ns, name));
    if (!job) return false;
    jobs.delete(key(ns, name));
    for (const [k, pod] of pods) {
      if (pod.metadata.namespace === ns && pod.metadata.labels?.['job-name'] === name) deletePod(k);
    }
    return true;
  }
  function deletePod(k: string): void {
    pods.delete(k);
    running.get(k)?.kill('Killed');
    running.delete(k);
  }

  function createJob(ns: string, body: Obj): Obj {
    const name: string = body.metadata?.name ?? `job-${randomUUID().slice(0, 8)}`;
    const uid = randomUUID();
    const job: Obj = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      ...body,
      metadata: { ...body.metadata, name, namespace: ns, uid, creationTimestamp: now() },
      status: { active: 1, startTime: now() },
    };
    jobs.set(key(ns, name), job);
    created.push(job);
    const tpl = body.spec?.template ?? {};
    const podName = `${name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const container = tpl.spec?.containers?.[0] ?? {};
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: ns,
        uid: randomUUID(),
        creationTimestamp: now(),
        labels: { ...tpl.metadata?.labels, 'job-name': name, 'controller-uid': uid },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true }],
      },
      spec: { ...tpl.spec, nodeName: NODE_NAME },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: container.name ?? 'main',
            ready: false,
            restartCount: 0,
            image: container.image ?? '',
            imageID: '',
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      },
    };
    const pk = key(ns, podName);
    pods.set(pk, pod);
    const later = setTimeout(() => {
      timers.delete(later);
      startPod(pk, job, container);
    }, 50);
    timers.add(later);
    return job;
  }

  function startPod(pk: string, job: Obj, container: Obj): void {
    const pod = pods.get(pk);
    if (!pod) return;
    const cs = pod.status.containerStatuses[0];
    const waiting = (reason: string, message: string) => {
      cs.state = { waiting: { reason, message } };
    };
    if (/nonexistent|invalid/.test(String(container.image ?? ''))) {
      return waiting('ImagePullBackOff', `Back-off pulling image "${container.image}"`);
    }
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = String(e.value);
      else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env[e.name] = NODE_NAME;
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const secret = secrets.get(key(pod.metadata.namespace, ref.name));
        const data = secret?.data?.[ref.key];
        if (data === undefined)
          return waiting('CreateContainerConfigError', `secret "${ref.name}" key "${ref.key}" not found`);
        env[e.name] = Buffer.from(String(data), 'base64').toString('utf8');
      }
    }
    let command: string[] = [...(container.command ?? []), ...(container.args ?? [])];
    if (command.length === 0) return waiting('CreateContainerError', 'no command');
    const workDir = join(dir, pod.metadata.name);
    mkdirSync(workDir, { recursive: true });
    // ConfigMap volumes: files in <pod dir>/volumes/<volume>; the mount path is rewritten in env and command.
    for (const m of container.volumeMounts ?? []) {
      const ref = (pod.spec.volumes ?? []).find((v: Obj) => v.name === m.name)?.configMap?.name;
      if (!ref) continue;
      const cm = configMaps.get(key(pod.metadata.namespace, ref));
      if (!cm) return waiting('ContainerCreating', `MountVolume.SetUp failed: configmap "${ref}" not found`);
      const local = join(workDir, 'volumes', m.name);
      mkdirSync(local, { recursive: true });
      for (const [file, text] of Object.entries(cm.data ?? {}))
        writeFileSync(join(local, file), String(text));
      const rewrite = (v: string) => (v.startsWith(m.mountPath) ? local + v.slice(m.mountPath.length) : v);
      for (const [k, v] of Object.entries(env)) env[k] = rewrite(v);
      command = command.map(rewrite);
    }
    const log = openSync(join(workDir, 'container.log'), 'a');
    const limit = container.resources?.limits?.memory;
    const run = runContainer(
      command,
      { HOSTNAME: pod.metadata.name, ...env },
      workDir,
      log,
      limit ? parseQuantity(String(limit)) : undefined,
      job.spec?.activeDeadlineSeconds,
    );
    closeSync(log);
    running.set(pk, run);
    pod.status = {
      ...pod.status,
      phase: 'Running',
      startTime: now(),
      containerStatuses: [{ ...cs, ready: true, started: true, state: { running: { startedAt: now() } } }],
    };
    void run.done.then(({ exitCode, reason }) => {
      running.delete(pk);
      if (!pods.has(pk)) return;
      const ok = exitCode === 0 && reason === 'Completed';
      const startedAt = pod.status.startTime;
      pod.status = {
        ...pod.status,
        phase: ok ? 'Succeeded' : 'Failed',
        reason: reason === 'DeadlineExceeded' ? 'DeadlineExceeded' : undefined,
        containerStatuses: [
          {
            ...cs,
            ready: false,
            started: false,
            state: { terminated: { exitCode, reason, startedAt, finishedAt: now() } },
          },
        ],
      };
      const k = key(job.metadata.namespace, job.metadata.name);
      if (!jobs.has(k)) return;
      const condition = ok
        ? { type: 'Complete', status: 'True', lastTransitionTime: now() }
        : {
            type: 'Failed',
            status: 'True',
            reason: reason === 'DeadlineExceeded' ? 'DeadlineExceeded' : 'BackoffLimitExceeded',
            message:
              reason === 'DeadlineExceeded'
                ? 'Job was active longer than specified deadline'
                : 'Job has reached the specified backoff limit',
            lastTransitionTime: now(),
          };
      job.status = {
        startTime: job.status.startTime,
        ...(ok ? { succeeded: 1, completionTime: now() } : { failed: 1 }),
        conditions: [condition],
      };
      const ttl = job.spec?.ttlSecondsAfterFinished;
      if (typeof ttl === 'number') {
        const t = setTimeout(() => {
          timers.delete(t);
          deleteJob(job.metadata.namespace, job.metadata.name);
        }, ttl * 1000);
        t.unref();
        timers.add(t);
      }
    });
  }

  function list(res: ServerResponse, kind: string, store: Map<string, Obj>, ns: string, url: URL): void {
    const reqs = parseSelector(url.searchParams.get('labelSelector') ?? '');
    const items = [...store.values()].filter(
      (o) => o.metadata.namespace === ns && matches(o.metadata.labels, reqs),
    );
    send(res, 200, {
      kind: `${kind}List`,
      apiVersion: kind === 'Job' ? 'batch/v1' : 'v1',
      metadata: { resourceVersion: '1' },
      items,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Bearer ${token}`)
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    if (await pandaQueues.handle(req, res, url, () => readBody(req))) return;
    const m =
      /^\/(?:apis\/batch\/v1|api\/v1)\/namespaces\/([^/]+)\/(jobs|pods|secrets|configmaps)(?:\/([^/]+))?$/.exec(
        url.pathname,
      );
    if (!m) return status(res, 404, 'NotFound', `no route ${req.method} ${url.pathname}`);
    const [, ns, resource, name] = m as unknown as [string, string, string, string | undefined];
    const stores = { jobs, pods, secrets, configmaps: configMaps } as Record<string, Map<string, Obj>>;
    const kinds: Record<string, string> = {
      jobs: 'Job',
      pods: 'Pod',
      secrets: 'Secret',
      configmaps: 'ConfigMap',
    };
    const store = stores[resource]!;
    const kind = kinds[resource]!;
    if (req.method === 'POST' && !name) {
      const body = JSON.parse(await readBody(req)) as Obj;
      const n = body.metadata?.name;
      if (n && store.has(key(ns, n)))
        return status(res, 409, 'AlreadyExists', `${resource} "${n}" already exists`);
      if (resource === 'jobs') return send(res, 201, createJob(ns, body));
      if (resource === 'secrets') {
        const data: Obj = { ...body.data };
        for (const [k, v] of Object.entries(body.stringData ?? {}))
          data[k] = Buffer.from(String(v)).toString('base64');
        const secret = {
          apiVersion: 'v1',
          kind: 'Secret',
          ...body,
          stringData: undefined,
          data,
          metadata: { ...body.metadata, namespace: ns },
        };
        secrets.set(key(ns, n), secret);
        return send(res, 201, secret);
      }
      if (resource === 'configmaps') {
        const cm = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          ...body,
          metadata: { ...body.metadata, namespace: ns },
        };
        configMaps.set(key(ns, n), cm);
        return send(res, 201, cm);
      }
      return status(res, 405, 'MethodNotAllowed', 'create pods through a Job');
    }
    if (req.method === 'GET' && !name) return list(res, kind, store, ns, url);
    if (!name) return status(res, 405, 'MethodNotAllowed', `${req.method} not supported`);
    const obj = store.get(key(ns, name));
    if (!obj) return status(res, 404, 'NotFound', `${resource} "${name}" not found`);
    if (req.method === 'GET') return send(res, 200, obj);
    if (req.method === 'DELETE') {
      if (resource === 'jobs') deleteJob(ns, name);
      else if (resource === 'pods') deletePod(key(ns, name));
      else store.delete(key(ns, name));
      return send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Success',
        details: { name, kind: resource },
      });
    }
    return status(res, 405, 'MethodNotAllowed', `${req.method} not supported`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => status(res, 500, 'InternalError', (err as Error).message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // plain HTTP: the client allows it only with skip-TLS-verify set
      clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'harvester', user: { token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'harvester', namespace: 'default' } }],
      'current-context': 'fake',
    }),
  );
  return {
    url,
    kubeconfig,
    pods: () => [...pods.values()],
    jobs: () => [...jobs.values()],
    configMaps: () => [...configMaps.values()],
    pandaQueues,
    requests,
    created,
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const r of running.values()) r.kill('Killed');
      await Promise.all([...running.values()].map((r) => r.done));
      pandaQueues.closeWatches();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
