/** One requirement of a label selector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`. */
type Requirement = (labels: Record<string, string>) => boolean;

/** Parses the label-selector subset Kubernetes clients send (equality and set-based). */
export function parseSelector(selector: string): Requirement[] {
  const reqs: Requirement[] = [];
  const parts = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  for (const raw of parts) {
    const part = raw.trim();
    if (!part) continue;
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (set) {
      const [, key, op, list] = set;
      const values = new Set(list!.split(',').map((v) => v.trim()));
      reqs.push((l) => (op === 'in' ? values.has(l[key!] ?? '\0') : !values.has(l[key!] ?? '\0')));
      continue;
    }
    const eq = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (eq) {
      const [, key, op, value] = eq;
      reqs.push((l) => (op === '!=' ? l[key!] !== value : l[key!] === value));
      continue;
    }
    const exists = /^(!?)([^\s!=]+)$/.exec(part);
    if (exists) {
      const [, not, key] = exists;
      reqs.push((l) => (not ? !(key! in l) : key! in l));
      continue;
    }
    throw new Error(`unsupported label selector: ${part}`);
  }
  return reqs;
}

export const matches = (labels: Record<string, string> | undefined, reqs: Requirement[]): boolean =>
  reqs.every((r) => r(labels ?? {}));
