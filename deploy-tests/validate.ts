// Validates rendered objects against the Kubernetes API schemas shipped in `kubernetes-models`
// (its JSON schemas, compiled with ajv, offline), and custom resources against their CRD's own
// openAPIV3Schema.
import { Ajv } from 'ajv';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { K8sObject } from './helm.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

const key = (o: Pick<K8sObject, 'apiVersion' | 'kind'>): string => `${o.apiVersion}/${o.kind}`;

/** Kinds the charts render that are neither built in nor defined by a CRD of ours. */
const THIRD_PARTY = new Set(['postgresql.cnpg.io/v1/Cluster', 'monitoring.coreos.com/v1/ServiceMonitor']);

export interface Problem {
  object: string;
  message: string;
}

/**
 * Every object against its schema: built-in kinds through kubernetes-models, our custom
 * resources through the openAPIV3Schema of the CRD among `objects`. Unknown kinds are problems.
 */
export function validateObjects(objects: K8sObject[]): Problem[] {
  const problems: Problem[] = [];
  const crdSchemas = new Map<string, (data: unknown) => boolean>();
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/ },
  });
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const crd = o as unknown as {
      spec: {
        group: string;
        names: { kind: string };
        versions: { name: string; schema: { openAPIV3Schema: object } }[];
      };
    };
    for (const v of crd.spec.versions) {
      const check = ajv.compile(stripKubernetesExtensions(v.schema.openAPIV3Schema));
      crdSchemas.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, (data) => {
        const ok = check(data);
        if (!ok) throw new Error(ajv.errorsText(check.errors));
        return ok;
      });
    }
  }
  for (const o of objects) {
    const name = `${o.kind}/${o.metadata?.name ?? '?'}`;
    try {
      const Model = MODELS[key(o)];
      const crd = crdSchemas.get(key(o));
      if (Model) new Model(o as never).validate();
      else if (crd) crd(o);
      else if (!THIRD_PARTY.has(key(o))) throw new Error(`no schema known for ${key(o)}`);
    } catch (err) {
      problems.push({ object: name, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return problems;
}

/**
 * The CRD schema as ajv can check it: x-kubernetes-* keywords removed, and, below the root,
 * objects with properties closed (additionalProperties false) unless they preserve unknown
 * fields, since the API server would silently prune a misspelt field.
 */
function stripKubernetesExtensions(schema: unknown, root = true): object {
  if (Array.isArray(schema)) return schema.map((s: unknown) => stripKubernetesExtensions(s, false));
  if (schema === null || typeof schema !== 'object') return schema as object;
  const out: Record<string, unknown> = {};
  const src = schema as Record<string, unknown>;
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([p, s]) => [p, stripKubernetesExtensions(s, false)]),
      );
    } else out[k] = typeof v === 'object' ? stripKubernetesExtensions(v, false) : v;
  }
  if (!root && src.properties && !src['x-kubernetes-preserve-unknown-fields'])
    out.additionalProperties = false;
  return out;
}
