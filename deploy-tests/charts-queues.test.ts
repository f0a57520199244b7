// The queue catalogue: its ConfigMap, the PandaQueue CRD (printer columns, schema) and the
// PandaQueues and RBAC of the kube-queues value set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helm.js';
import { CHARTS, VALUE_SETS } from './helm.js';
import type { Rule, Workload } from './charts-support.js';
import { byKind, named, pilotPod, renderSets, SETS, umbrellaValues } from './charts-support.js';
import { validateObjects } from './validate.js';

const rendered = renderSets();

describe.each(SETS)('umbrella rendered with %s values', (set) => {
  const objects = () => rendered[set];

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
});

describe('value sets', () => {
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
});
