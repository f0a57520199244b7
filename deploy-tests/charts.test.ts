// The charts, linted and rendered with every value set, then checked object by object:
// API schemas, security, probes, resources, RBAC scope, Secrets, the queue catalogue.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { K8sObject, ValueSet } from './helm.js';
import {
  buildDependencies,
  CHARTS,
  parseObjects,
  runHelm,
  SERVICE_CHARTS,
  template,
  UMBRELLA,
  VALUE_SETS,
  valuesArgs,
} from './helm.js';
import { validateObjects } from './validate.js';

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: unknown;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
}
type Workload = K8sObject & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const SETS = Object.keys(VALUE_SETS) as ValueSet[];
const rendered = {} as Record<ValueSet, K8sObject[]>;

const byKind = <T = K8sObject>(objects: K8sObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];
const named = <T = K8sObject>(objects: K8sObject[], kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  return found as T;
};
const workloads = (objects: K8sObject[]): Workload[] =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)) as Workload[];
/** The pod harvester starts per worker, from the ConfigMap <release>-pilot-template. */
const pilotPod = (objects: K8sObject[]): K8sObject & { spec: PodSpec } => {
  const cm = named<{ data: Record<string, string> }>(objects, 'ConfigMap', 'panda-pilot-template');
  const [pod] = parseObjects(cm.data['pod.yaml'] ?? '');
  return pod as K8sObject & { spec: PodSpec };
};
/** Every pod spec: workloads' templates and the pilot pod template. */
const podSpecs = (objects: K8sObject[]): { owner: string; spec: PodSpec }[] => [
  ...workloads(objects).map((w) => ({ owner: `${w.kind}/${w.metadata.name}`, spec: w.spec.template.spec })),
  { owner: 'pilot pod template', spec: pilotPod(objects).spec },
];
const umbrellaValues = (file = 'values.yaml') =>
  parse(readFileSync(join(UMBRELLA, file), 'utf8')) as {
    global: { queues: { catalogue: { name: string }[] } };
  };

beforeAll(() => {
  // given: the file:// dependencies vendored, and the umbrella rendered with each value set
  buildDependencies();
  for (const set of SETS) rendered[set] = template(set);
});

describe('helm lint', () => {
  it.each(SERVICE_CHARTS)('given the %s chart alone, when linted, then helm reports no failure', (chart) => {
    const r = runHelm(['lint', '--strict', join(CHARTS, chart)]);
    expect(r.stdout + r.stderr).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it.each(SETS)('given the umbrella with %s values, when linted, then helm reports no failure', (set) => {
    const r = runHelm(['lint', '--strict', UMBRELLA, ...valuesArgs(set)]);
    expect(r.stdout + r.stderr).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe.each(SETS)('umbrella rendered with %s values', (set) => {
  const objects = () => rendered[set];

  it('then every object is valid against the Kubernetes API schemas and the CRD schema', () => {
    expect(objects().length).toBeGreaterThan(20);
    expect(validateObjects(objects())).toEqual([]);
    expect(validateObjects([pilotPod(objects())])).toEqual([]);
  });

  it('then there is a Deployment, Service, ServiceAccount and ConfigMap per service', () => {
    for (const svc of SERVICE_CHARTS) {
      const name = `panda-${svc}`;
      named(objects(), 'Deployment', name);
      named(objects(), 'Service', name);
      named(objects(), 'ServiceAccount', name);
      named(objects(), 'ConfigMap', `${name}-env`);
    }
  });

  it('then nothing is cluster-wide: no ClusterRole, ClusterRoleBinding, and Roles name no wildcard', () => {
    const kinds = new Set(objects().map((o) => o.kind));
    expect(kinds.has('ClusterRole')).toBe(false);
    expect(kinds.has('ClusterRoleBinding')).toBe(false);
    for (const role of byKind<K8sObject & { rules: Rule[] }>(objects(), 'Role')) {
      for (const rule of role.rules) {
        expect([...rule.apiGroups, ...rule.resources, ...rule.verbs], role.metadata.name).not.toContain('*');
      }
    }
  });

  it("then harvester's worker Role grants only pods, pods/log, jobs, configmaps and secrets", () => {
    const role = named<K8sObject & { rules: Rule[] }>(objects(), 'Role', 'panda-harvester-workers');
    const resources = role.rules.flatMap((r) => r.resources);
    expect(new Set(resources)).toEqual(new Set(['pods', 'pods/log', 'jobs', 'configmaps', 'secrets']));
    expect(role.rules.flatMap((r) => r.verbs)).not.toContain('escalate');
    const binding = named<K8sObject & { subjects: { name: string }[]; roleRef: { kind: string } }>(
      objects(),
      'RoleBinding',
      'panda-harvester-workers',
    );
    expect(binding.roleRef.kind).toBe('Role');
    expect(binding.subjects.map((s) => s.name)).toEqual(['panda-harvester']);
  });

  it('then every container runs as non-root, without privilege escalation, capabilities or a writable root', () => {
    for (const { owner, spec } of podSpecs(objects())) {
      expect(spec.securityContext?.runAsNonRoot, owner).toBe(true);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const where = `${owner} container ${c.name}`;
        expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(c.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
        const uid = (c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser) as number | undefined;
        expect(uid, where).toBeGreaterThan(0);
      }
    }
  });

  it('then every container has resource requests and a memory limit', () => {
    for (const { owner, spec } of podSpecs(objects())) {
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(c.resources?.requests?.cpu, `${owner} ${c.name}`).toBeTruthy();
        expect(c.resources?.requests?.memory, `${owner} ${c.name}`).toBeTruthy();
        expect(c.resources?.limits?.memory, `${owner} ${c.name}`).toBeTruthy();
      }
    }
  });

  it('then every long-running container has liveness and readiness probes on a port it declares', () => {
    const longRunning = workloads(objects()).filter((w) => w.kind !== 'Job');
    for (const w of longRunning) {
      for (const c of w.spec.template.spec.containers) {
        const where = `${w.metadata.name}/${c.name}`;
        expect(c.livenessProbe, where).toBeDefined();
        expect(c.readinessProbe, where).toBeDefined();
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          if (!probe?.httpGet) continue;
          expect(
            c.ports?.map((p) => p.name),
            where,
          ).toContain(probe.httpGet.port);
        }
      }
    }
  });

  it('then the PANDA services probe /healthz for liveness and /readyz for readiness', () => {
    for (const svc of SERVICE_CHARTS) {
      const [c] = named<Workload>(objects(), 'Deployment', `panda-${svc}`).spec.template.spec.containers;
      expect(c?.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(c?.readinessProbe?.httpGet?.path).toBe('/readyz');
    }
  });

  it('then no secret is inlined: credentials come from secretKeyRef, never from values or ConfigMaps', () => {
    // (PANDA_REQUIRE_TOKEN is the gateway's true/false switch, not a credential)
    const secretish = /PASSWORD|(?<!REQUIRE_)TOKEN|SECRET|_KEY$|DATABASE_URL/;
    for (const { owner, spec } of podSpecs(objects())) {
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        for (const e of c.env ?? []) {
          if (secretish.test(e.name)) expect(e.value, `${owner} ${c.name} ${e.name}`).toBeUndefined();
        }
      }
    }
    for (const cm of byKind<K8sObject & { data?: Record<string, string> }>(objects(), 'ConfigMap')) {
      expect(
        Object.keys(cm.data ?? {}).filter((k) => secretish.test(k)),
        cm.metadata.name,
      ).toEqual([]);
      expect(JSON.stringify(cm.data ?? {}), cm.metadata.name).not.toMatch(/postgres(ql)?:\/\/[^@"]*:[^@"]*@/);
    }
  });

  it('then Services and PodDisruptionBudgets select the pods of a workload', () => {
    const podLabels = workloads(objects()).map((w) => w.spec.template.metadata.labels);
    const selects = (selector: Record<string, string>) =>
      podLabels.some((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v));
    for (const s of byKind<K8sObject & { spec: { selector: Record<string, string> } }>(
      objects(),
      'Service',
    )) {
      expect(selects(s.spec.selector), `Service ${s.metadata.name}`).toBe(true);
    }
    for (const p of byKind<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      objects(),
      'PodDisruptionBudget',
    )) {
      expect(selects(p.spec.selector.matchLabels), `PDB ${p.metadata.name}`).toBe(true);
    }
  });

  it('then every PANDA_*_ADDR and PANDA_GATEWAY_URL names a rendered Service and its port', () => {
    const services = new Map(
      byKind<K8sObject & { spec: { ports: { port: number }[] } }>(objects(), 'Service').map((s) => [
        s.metadata.name,
        s.spec.ports.map((p) => p.port),
      ]),
    );
    for (const cm of byKind<K8sObject & { data?: Record<string, string> }>(objects(), 'ConfigMap')) {
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        if (!/^PANDA_\w+_ADDR$|^PANDA_GATEWAY_URL$/.test(k)) continue;
        const m = /^(?:http:\/\/)?([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)$/.exec(v);
        expect(m, `${cm.metadata.name} ${k}=${v}`).not.toBeNull();
        expect(services.get(m![1]!), `${cm.metadata.name} ${k}=${v}`).toContain(Number(m![2]));
      }
    }
  });

  it('then the queue ConfigMap holds exactly the catalogue given in values', () => {
    const files = ['values.yaml', ...VALUE_SETS[set]];
    const catalogue = files
      .map((f) => umbrellaValues(f).global?.queues?.catalogue)
      .filter((c) => c !== undefined)
      .at(-1);
    const cm = named<{ data: Record<string, string> }>(objects(), 'ConfigMap', 'panda-queues');
    expect(JSON.parse(cm.data['queues.json'] ?? '')).toEqual({ queues: catalogue });
  });

  it('then the PandaQueue CRD has printer columns for status, limits and running workers', () => {
    const crd = named<{
      spec: { versions: { additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
    }>(objects(), 'CustomResourceDefinition', 'pandaqueues.panda.rubin.org');
    const columns = Object.fromEntries(
      crd.spec.versions[0]!.additionalPrinterColumns.map((c) => [c.name, c.jsonPath]),
    );
    expect(columns).toMatchObject({
      Status: '.spec.status',
      MaxRSS: '.spec.maxrss',
      MaxTime: '.spec.maxtime',
      MaxWorkers: '.spec.harvester.maxWorkers',
      Accepted: '.status.conditions[?(@.type=="Accepted")].status',
      Running: '.status.runningWorkers',
      Submitted: '.status.submittedWorkers',
      Activated: '.status.activatedJobs',
      RunningJobs: '.status.runningJobs',
    });
  });

  it('then harvester serves Prometheus metrics on a declared, annotated port its Service exposes', () => {
    const deployment = named<
      Workload & { spec: { template: { metadata: { annotations?: Record<string, string> } } } }
    >(objects(), 'Deployment', 'panda-harvester');
    const [c] = deployment.spec.template.spec.containers;
    expect(c?.ports).toContainEqual({ name: 'metrics', containerPort: 9090 });
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'prometheus.io/path': '/metrics',
    });
    const env = named<{ data: Record<string, string> }>(objects(), 'ConfigMap', 'panda-harvester-env').data;
    expect(env).toMatchObject({ PANDA_METRICS_PORT: '9090', PANDA_METRICS_HOST: '0.0.0.0' });
    const service = named<{ spec: { ports: { name: string; port: number; targetPort: string }[] } }>(
      objects(),
      'Service',
      'panda-harvester',
    );
    expect(service.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'metrics', port: 9090, targetPort: 'metrics' }),
    );
    // (no other service exposes a metrics port unless its chart enables it)
    const [server] = named<Workload>(objects(), 'Deployment', 'panda-server').spec.template.spec.containers;
    expect(server?.ports?.map((p) => p.name)).not.toContain('metrics');
    expect(byKind(objects(), 'ServiceMonitor')).toEqual([]);
  });

  it('then harvester (signs) and pilot-gateway (verifies) read the pilot-token Secret as PANDA_PILOT_TOKEN_SECRET, and only they', () => {
    // (every value set names, or makes, the Secret panda-pilot-token)
    for (const svc of SERVICE_CHARTS) {
      const [c] = named<Workload>(objects(), 'Deployment', `panda-${svc}`).spec.template.spec.containers;
      const env = c?.env ?? [];
      const token = env.find((e) => e.name === 'PANDA_PILOT_TOKEN_SECRET');
      if (svc === 'harvester' || svc === 'pilot-gateway') {
        expect(token?.valueFrom, svc).toEqual({
          secretKeyRef: { name: 'panda-pilot-token', key: 'signing-key' },
        });
      } else {
        expect(token, svc).toBeUndefined();
      }
      expect(
        env.map((e) => e.name).filter((n) => /PILOT_TOKEN/.test(n) && n !== 'PANDA_PILOT_TOKEN_SECRET'),
      ).toEqual([]);
    }
    const gatewayEnv = named<{ data: Record<string, string> }>(
      objects(),
      'ConfigMap',
      'panda-pilot-gateway-env',
    );
    expect(gatewayEnv.data.PANDA_REQUIRE_TOKEN).toBe('true');
    const harvesterEnv = named<{ data: Record<string, string> }>(
      objects(),
      'ConfigMap',
      'panda-harvester-env',
    );
    expect(harvesterEnv.data.PANDA_SUBMITTERS).toBe('kubernetes,local');
    expect(harvesterEnv.data.PANDA_KUBE_NAMESPACE).toMatch(/^panda(-workers)?$/);
  });

  it('then the pilot pod template runs the pilot image with no API token and the gateway address', () => {
    const pod = pilotPod(objects());
    const [c] = pod.spec.containers;
    expect(c?.image).toMatch(/(^|\/)panda-pilot[:@]/);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.serviceAccountName).toBe('panda-pilot');
    expect(c?.env?.find((e) => e.name === 'PANDA_PILOT_GATEWAY_URL')?.value).toMatch(
      /^http:\/\/panda-pilot-gateway\.panda\.svc:8080$/,
    );
    expect(pod.metadata.labels?.['app.kubernetes.io/component']).toBe('pilot');
  });
});

describe('value sets', () => {
  it('given default values, then each service with a schema migrates in a pre-install/pre-upgrade hook Job', () => {
    const jobs = byKind<K8sObject & { spec: { template: { spec: PodSpec } } }>(rendered.default, 'Job');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(
      ['panda-harvester-migrate', 'panda-idds-migrate', 'panda-jedi-migrate', 'panda-server-migrate'].sort(),
    );
    for (const job of jobs) {
      expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(job.metadata.annotations?.['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
      const [c] = job.spec.template.spec.containers;
      expect((c as unknown as { args: string[] }).args).toEqual(['migrate']);
      // A hook runs before the release's own objects exist: only the pre-made Secret is used.
      expect(c?.env?.find((e) => e.name === 'PANDA_DATABASE_URL')?.valueFrom).toEqual({
        secretKeyRef: { name: 'panda-database', key: 'url' },
      });
    }
    expect(byKind(rendered.default, 'Secret')).toEqual([]);
  });

  it('given default values, then PostgreSQL and NATS are external: no StatefulSet, the given NATS URL', () => {
    expect(byKind(rendered.default, 'StatefulSet')).toEqual([]);
    const cm = named<{ data: Record<string, string> }>(rendered.default, 'ConfigMap', 'panda-server-env');
    expect(cm.data.PANDA_NATS_URL).toBe('nats://nats.nats.svc:4222');
  });

  it('given dev values, then NATS (JetStream on a PVC) and PostgreSQL run in the release, migrations in init containers', () => {
    const objects = rendered.dev;
    const nats = named<
      K8sObject & { spec: { volumeClaimTemplates: unknown[]; template: { spec: PodSpec } } }
    >(objects, 'StatefulSet', 'panda-nats');
    expect(nats.spec.volumeClaimTemplates).toHaveLength(1);
    expect((nats.spec.template.spec.containers[0] as unknown as { args: string[] }).args).toContain('-js');
    named(objects, 'StatefulSet', 'panda-postgresql');
    expect(byKind(objects, 'Job')).toEqual([]);
    const server = named<Workload>(objects, 'Deployment', 'panda-server');
    expect(server.spec.template.spec.initContainers?.map((c) => c.name)).toEqual(['migrate']);
    expect(
      named<{ data: Record<string, string> }>(objects, 'ConfigMap', 'panda-server-env').data.PANDA_NATS_URL,
    ).toBe('nats://panda-nats:4222');
    for (const d of byKind<K8sObject & { spec: { replicas: number } }>(objects, 'Deployment')) {
      expect(d.spec.replicas, d.metadata.name).toBe(1);
    }
    // The chart makes the dev Secrets (random, kept on upgrade), so values never hold them.
    expect(
      byKind(objects, 'Secret')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['panda-database', 'panda-pilot-token']);
  });

  it('given prod-like values, then the edges autoscale and keep one pod through disruptions', () => {
    const objects = rendered['prod-like'];
    const hpas = byKind<K8sObject & { spec: { scaleTargetRef: { name: string } } }>(
      objects,
      'HorizontalPodAutoscaler',
    );
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([
      'panda-monitor',
      'panda-pilot-gateway',
    ]);
    for (const h of hpas)
      expect(named(objects, 'Deployment', h.spec.scaleTargetRef.name).spec).not.toHaveProperty('replicas');
    expect(
      named<{ spec: { minAvailable: number } }>(objects, 'PodDisruptionBudget', 'panda-server').spec
        .minAvailable,
    ).toBe(2);
    const [c] = named<Workload>(objects, 'Deployment', 'panda-server').spec.template.spec.containers;
    expect(c?.image).toBe('registry.example.org/panda/panda-server:0.1.0');
  });

  it('given kube-queues values, then PandaQueues are made from the catalogue and the worker RBAC sits in the workers namespace', () => {
    const objects = rendered['kube-queues'];
    const queues = byKind<K8sObject & { spec: { name: string; status: string } }>(objects, 'PandaQueue');
    expect(queues.map((q) => [q.metadata.name, q.spec.name, q.metadata.labels?.['panda/queue']])).toEqual([
      ['k8s-rubin', 'K8S_Rubin', 'K8S_Rubin'],
      ['k8s-rubin-offline', 'K8S_Rubin_Offline', 'K8S_Rubin_Offline'],
    ]);
    expect(queues.every((q) => q.metadata.annotations?.['helm.sh/resource-policy'] === 'keep')).toBe(true);
    expect(named(objects, 'Role', 'panda-harvester-workers').metadata.namespace).toBe('panda-workers');
    expect(named(objects, 'RoleBinding', 'panda-harvester-workers').metadata.namespace).toBe('panda-workers');
    expect(named(objects, 'ServiceAccount', 'panda-pilot').metadata.namespace).toBe('panda-workers');
    expect(pilotPod(objects).metadata.namespace).toBe('panda-workers');
    // Watching PandaQueues: server and harvester get a token and a namespaced Role for them.
    for (const svc of ['server', 'harvester']) {
      const role = named<K8sObject & { rules: Rule[] }>(objects, 'Role', `panda-${svc}-queues`);
      expect(role.metadata.namespace ?? 'panda').toBe('panda');
      expect(role.rules.flatMap((r) => r.resources)).toEqual(['pandaqueues', 'pandaqueues/status']);
      const env = named<{ data: Record<string, string> }>(objects, 'ConfigMap', `panda-${svc}-env`).data;
      expect(env.PANDA_QUEUES_CRD).toBe('true');
      expect(env.PANDA_QUEUES_CRD_NAMESPACE).toBe('panda');
      expect(
        named<Workload>(objects, 'Deployment', `panda-${svc}`).spec.template.spec
          .automountServiceAccountToken,
      ).toBe(true);
    }
    expect(
      named<Workload>(objects, 'Deployment', 'panda-jedi').spec.template.spec.automountServiceAccountToken,
    ).toBe(false);
  });

  it('given a PandaQueue with a misspelt or invalid field, then the CRD schema rejects it', () => {
    const crd = named(rendered['kube-queues'], 'CustomResourceDefinition', 'pandaqueues.panda.rubin.org');
    const [queue] = byKind<K8sObject & { spec: Record<string, unknown> }>(
      rendered['kube-queues'],
      'PandaQueue',
    );
    const bad = [
      { ...queue!, spec: { ...queue!.spec, status: 'sleeping' } },
      { ...queue!, spec: { ...queue!.spec, maxRss: 100 } },
    ];
    const problems = validateObjects([crd, ...bad]);
    expect(problems).toHaveLength(2);
  });

  it('given the example catalogue, then each entry is a valid PandaQueue spec (the same shape as the file)', () => {
    const crd = named(rendered['kube-queues'], 'CustomResourceDefinition', 'pandaqueues.panda.rubin.org');
    const catalogue = JSON.parse(readFileSync(join(CHARTS, '..', 'config', 'queues.json'), 'utf8')) as {
      queues: Record<string, unknown>[];
    };
    const resources = catalogue.queues.map((spec, i) => ({
      apiVersion: 'panda.rubin.org/v1alpha1',
      kind: 'PandaQueue',
      metadata: { name: `q${i}` },
      spec: {
        ...spec,
        status: i === 0 ? 'paused' : spec.status,
        timeouts: { heartbeatS: 60, startingS: 600 },
      },
    }));
    expect(validateObjects([crd, ...resources])).toEqual([]);
    const [first] = resources;
    const missing = { ...first!, spec: { ...first!.spec, harvester: { submitter: 'local' } } };
    expect(validateObjects([crd, missing])).toHaveLength(1);
  });

  it('given a ServiceMonitor asked for, then one selects harvester on its metrics port', () => {
    const objects = template('default', ['--set', 'harvester.metrics.serviceMonitor.enabled=true']);
    const [monitor] = byKind<
      K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
      }
    >(objects, 'ServiceMonitor');
    expect(monitor?.metadata.name).toBe('panda-harvester');
    expect(monitor?.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(monitor?.spec.selector.matchLabels).toMatchObject({ 'app.kubernetes.io/name': 'harvester' });
    expect(validateObjects(objects)).toEqual([]);
  });

  it('given the CloudNativePG option, then a Cluster is rendered and services read its app Secret', () => {
    const objects = template('dev', ['--set', 'global.database.builtin=cnpg']);
    named(objects, 'Cluster', 'panda-postgresql');
    expect(byKind(objects, 'StatefulSet').map((s) => s.metadata.name)).toEqual(['panda-nats']);
    const [c] = named<Workload>(objects, 'Deployment', 'panda-idds').spec.template.spec.containers;
    expect(c?.env?.find((e) => e.name === 'PANDA_DATABASE_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'panda-postgresql-app', key: 'uri' },
    });
  });

  it('given harvester with two replicas, then the chart refuses to render', () => {
    const r = runHelm(['template', 'panda', UMBRELLA, '--set', 'harvester.replicaCount=2']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('singleton');
  });

  it('given hook migrations with the built-in database, then the chart refuses to render', () => {
    const r = runHelm([
      'template',
      'panda',
      UMBRELLA,
      ...valuesArgs('dev'),
      '--set',
      'global.migrations.mode=hook',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('initContainer');
  });
});
