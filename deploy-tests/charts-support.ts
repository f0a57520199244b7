// Shared by the charts-*.test.ts files: the umbrella chart rendered with every value set, and
// the helpers that pick objects out of what helm rendered. The file:// dependencies are vendored
// once for the whole run by global-setup.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { parse } from 'yaml';
import type { K8sObject, ValueSet } from './helm.js';
import { parseObjects, template, UMBRELLA, VALUE_SETS } from './helm.js';

export interface Container {
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
export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: unknown;
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
}
export type Workload = K8sObject & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const SETS = Object.keys(VALUE_SETS) as ValueSet[];

/**
 * The umbrella rendered with each value set, filled in a beforeAll of the calling test file.
 * Call it at the top level of the file.
 */
export function renderSets(): Record<ValueSet, K8sObject[]> {
  const rendered = {} as Record<ValueSet, K8sObject[]>;
  beforeAll(() => {
    // given: the umbrella rendered with each value set (dependencies vendored by global-setup.ts)
    for (const set of SETS) rendered[set] = template(set);
  });
  return rendered;
}

export const byKind = <T = K8sObject>(objects: K8sObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];
export const named = <T = K8sObject>(objects: K8sObject[], kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  return found as T;
};
export const workloads = (objects: K8sObject[]): Workload[] =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)) as Workload[];
/** The pod harvester starts per worker, from the ConfigMap <release>-pilot-template. */
export const pilotPod = (objects: K8sObject[]): K8sObject & { spec: PodSpec } => {
  const cm = named<{ data: Record<string, string> }>(objects, 'ConfigMap', 'panda-pilot-template');
  const [pod] = parseObjects(cm.data['pod.yaml'] ?? '');
  return pod as K8sObject & { spec: PodSpec };
};
/** Every pod spec: workloads' templates and the pilot pod template. */
export const podSpecs = (objects: K8sObject[]): { owner: string; spec: PodSpec }[] => [
  ...workloads(objects).map((w) => ({ owner: `${w.kind}/${w.metadata.name}`, spec: w.spec.template.spec })),
  { owner: 'pilot pod template', spec: pilotPod(objects).spec },
];
export const umbrellaValues = (file = 'values.yaml') =>
  parse(readFileSync(join(UMBRELLA, file), 'utf8')) as {
    global: { queues: { catalogue: { name: string }[] } };
  };
