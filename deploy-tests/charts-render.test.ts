// The charts linted, and the umbrella rendered with every value set: valid against the API and CRD
// schemas, one set of objects per service, Services and PDBs selecting pods, addresses that resolve.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helm.js';
import { CHARTS, runHelm, SERVICE_CHARTS, UMBRELLA, valuesArgs } from './helm.js';
import { byKind, named, pilotPod, renderSets, SETS, workloads } from './charts-support.js';
import { validateObjects } from './validate.js';

const rendered = renderSets();

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
});
