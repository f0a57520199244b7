// Who may do what: namespaced RBAC only, harvester's worker Role, the pilot-token Secret read by
// harvester and pilot-gateway alone, and pilot pods without an API token.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helm.js';
import { SERVICE_CHARTS } from './helm.js';
import type { Rule, Workload } from './charts-support.js';
import { byKind, named, pilotPod, renderSets, SETS } from './charts-support.js';

const rendered = renderSets();

describe.each(SETS)('umbrella rendered with %s values', (set) => {
  const objects = () => rendered[set];

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
