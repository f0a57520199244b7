// What each value set (and a few --set options) changes: migrations, built-in or external
// PostgreSQL and NATS, autoscaling, CloudNativePG, and the combinations the charts refuse.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helm.js';
import { runHelm, template, UMBRELLA, valuesArgs } from './helm.js';
import type { PodSpec, Workload } from './charts-support.js';
import { byKind, named, renderSets } from './charts-support.js';

const rendered = renderSets();

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
