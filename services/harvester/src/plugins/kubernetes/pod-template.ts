import { readFileSync } from 'node:fs';
import { loadYaml } from '@kubernetes/client-node';
import type { V1Container, V1EnvVar, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { ConfigError } from '@panda/platform';

/**
 * Reads PANDA_K8S_POD_TEMPLATE_FILE: a v1 Pod (YAML or JSON; the harvester chart renders it as
 * the ConfigMap <release>-pilot-template) laid under every worker Job's pod. Refused at start
 * when it is not a Pod with at least one container.
 */
export function loadPodTemplate(file: string): V1Pod {
  let pod: unknown;
  try {
    pod = loadYaml<unknown>(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`PANDA_K8S_POD_TEMPLATE_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const p = pod as V1Pod | null;
  if (!p || typeof p !== 'object' || (p.kind !== undefined && p.kind !== 'Pod'))
    throw new ConfigError(`PANDA_K8S_POD_TEMPLATE_FILE: ${file} is not a v1 Pod`);
  if (!Array.isArray(p.spec?.containers) || p.spec.containers.length === 0)
    throw new ConfigError(`PANDA_K8S_POD_TEMPLATE_FILE: ${file} has no spec.containers[0] (the pilot)`);
  return p;
}

/**
 * Lays harvester's pod (one pilot container, labels, volumes) over the template's. The
 * template gives everything harvester does not set (service account, security contexts, node
 * selector, tolerations, volumes, image, extra env). Harvester wins on: labels it sets, the
 * container name, env variables of the same name, cpu and memory requests and the cpu limit
 * (and the memory limit when the template has one: it follows the queue), volumes and mounts
 * of the same name. Only the template's first container is used (the pilot), as upstream.
 * The container's image and command stay the template's when harvester has none.
 */
export function mergePodTemplate(template: V1Pod, own: V1PodTemplateSpec): V1PodTemplateSpec {
  const tSpec = template.spec!;
  const oSpec = own.spec!;
  const tc = tSpec.containers[0]!;
  const oc = oSpec.containers[0]!;
  const ownEnv = new Set((oc.env ?? []).map((e) => e.name));
  const env: V1EnvVar[] = [...(tc.env ?? []).filter((e) => !ownEnv.has(e.name)), ...(oc.env ?? [])];
  const tLimits = tc.resources?.limits ?? {};
  const container: V1Container = {
    ...tc,
    name: oc.name,
    image: oc.image ?? tc.image,
    command: oc.command ?? tc.command,
    args: oc.command ? oc.args : tc.args,
    env,
    resources: {
      ...tc.resources,
      requests: { ...tc.resources?.requests, ...oc.resources?.requests },
      limits: {
        ...tLimits,
        ...oc.resources?.limits,
        ...(tLimits.memory && oc.resources?.requests?.memory ? { memory: oc.resources.requests.memory } : {}),
      },
    },
    volumeMounts: byName([...(tc.volumeMounts ?? []), ...(oc.volumeMounts ?? [])]),
  };
  return {
    metadata: {
      ...template.metadata,
      name: undefined,
      namespace: undefined,
      generateName: undefined,
      labels: { ...template.metadata?.labels, ...own.metadata?.labels },
    },
    spec: {
      ...tSpec,
      ...Object.fromEntries(Object.entries(oSpec).filter(([k, v]) => v !== undefined && k !== 'volumes')),
      containers: [container],
      volumes: byName([...(tSpec.volumes ?? []), ...(oSpec.volumes ?? [])]),
    },
  };
}

/** The last of each name wins, in first-seen order; empty lists become undefined. */
function byName<T extends { name: string }>(items: T[]): T[] | undefined {
  const out = new Map<string, T>();
  for (const item of items) out.set(item.name, item);
  return out.size ? [...out.values()] : undefined;
}
