// Pod and container security, resources and probes of every workload (and of the pilot pod
// template), and no credential inlined in env or ConfigMaps.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helm.js';
import { SERVICE_CHARTS } from './helm.js';
import type { Workload } from './charts-support.js';
import { byKind, named, podSpecs, renderSets, SETS, workloads } from './charts-support.js';

const rendered = renderSets();

describe.each(SETS)('umbrella rendered with %s values', (set) => {
  const objects = () => rendered[set];

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
});
