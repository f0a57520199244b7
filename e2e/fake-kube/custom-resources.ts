import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matches, parseSelector } from './selector.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are loose JSON here */
type Obj = Record<string, any>;

export interface CustomResourceKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

type Reply = (code: number, body: unknown) => true;

export interface CustomResources {
  /** Serves `/apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>[/status]]`; false if not its path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, body: () => Promise<string>): Promise<boolean>;
  /** Current objects. */
  items(): Obj[];
  /** Ends every open watch (as an API server does at its timeout): clients must list again. */
  closeWatches(): void;
}

interface Watcher {
  ns: string;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

/**
 * A namespaced custom resource with a status subresource, as the API server serves it: list
 * (label selector), watch (NDJSON events after a resourceVersion, `timeoutSeconds`), get,
 * create, replace (PUT, with a resourceVersion conflict check), patch (merge and JSON patch),
 * delete, and `/status` get/replace/patch. Writes to the resource keep its status and bump
 * `metadata.generation` when the spec changes; writes to `/status` change only the status.
 * No schema validation: every object is accepted (the CRD schema is checked by deploy-tests).
 */
export function customResources(kind: CustomResourceKind): CustomResources {
  const objects = new Map<string, Obj>();
  const history: { rv: number; ns: string; type: string; object: Obj }[] = [];
  const watchers = new Set<Watcher>();
  let rv = 1;
  const prefix = `/apis/${kind.group}/${kind.version}/namespaces/`;
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  function emit(type: string, object: Obj): void {
    const ns = object.metadata.namespace as string;
    const copy = structuredClone(object);
    history.push({ rv: Number(object.metadata.resourceVersion), ns, type, object: copy });
    for (const w of watchers) if (w.ns === ns) w.res.write(`${JSON.stringify({ type, object: copy })}\n`);
  }

  function store(object: Obj, type: 'ADDED' | 'MODIFIED'): Obj {
    object.metadata.resourceVersion = String(++rv);
    objects.set(key(object.metadata.namespace, object.metadata.name), object);
    emit(type, object);
    return object;
  }

  /** A write to the resource (not its status): status kept, generation bumped on a spec change. */
  function write(old: Obj, next: Obj): Obj {
    const changed = JSON.stringify(old.spec ?? null) !== JSON.stringify(next.spec ?? null);
    return store(
      {
        ...next,
        apiVersion: `${kind.group}/${kind.version}`,
        kind: kind.kind,
        metadata: {
          ...next.metadata,
          name: old.metadata.name,
          namespace: old.metadata.namespace,
          uid: old.metadata.uid,
          creationTimestamp: old.metadata.creationTimestamp,
          generation: old.metadata.generation + (changed ? 1 : 0),
        },
        status: old.status,
      },
      'MODIFIED',
    );
  }

  function watch(ns: string, url: URL, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const from = Number(url.searchParams.get('resourceVersion') || rv);
    for (const h of history)
      if (h.ns === ns && h.rv > from) res.write(`${JSON.stringify({ type: h.type, object: h.object })}\n`);
    const w: Watcher = { ns, res };
    const timeout = Number(url.searchParams.get('timeoutSeconds') || 0);
    if (timeout > 0) w.timer = setTimeout(() => end(w), timeout * 1000);
    watchers.add(w);
    res.on('close', () => end(w));
  }

  function end(w: Watcher): void {
    clearTimeout(w.timer);
    if (watchers.delete(w)) w.res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: () => Promise<string>) {
    if (!url.pathname.startsWith(prefix)) return false;
    const [ns, plural, name, sub, ...rest] = url.pathname.slice(prefix.length).split('/');
    if (plural !== kind.plural || rest.length > 0 || (sub !== undefined && sub !== 'status')) return false;
    const reply: Reply = (code, b) => {
      send(res, code, b);
      return true;
    };
    const fail = (code: number, reason: string, message: string) =>
      reply(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
    const nsName = ns!;

    if (!name) {
      if (req.method === 'GET' && url.searchParams.get('watch') === 'true') {
        watch(nsName, url, res);
        return true;
      }
      if (req.method === 'GET') {
        const reqs = parseSelector(url.searchParams.get('labelSelector') ?? '');
        const items = [...objects.values()].filter(
          (o) => o.metadata.namespace === nsName && matches(o.metadata.labels, reqs),
        );
        reply(200, {
          apiVersion: `${kind.group}/${kind.version}`,
          kind: `${kind.kind}List`,
          metadata: { resourceVersion: String(rv) },
          items,
        });
        return true;
      }
      if (req.method === 'POST') {
        const b = JSON.parse(await body()) as Obj;
        const n = b.metadata?.name as string | undefined;
        if (!n) return fail(422, 'Invalid', 'metadata.name: Required value');
        if (objects.has(key(nsName, n)))
          return fail(409, 'AlreadyExists', `${kind.plural} "${n}" already exists`);
        const created = store(
          {
            ...b,
            apiVersion: `${kind.group}/${kind.version}`,
            kind: kind.kind,
            metadata: {
              ...b.metadata,
              namespace: nsName,
              uid: randomUUID(),
              generation: 1,
              creationTimestamp: now(),
            },
            status: undefined,
          },
          'ADDED',
        );
        return reply(201, created);
      }
      return fail(405, 'MethodNotAllowed', `${req.method} not supported`);
    }

    const old = objects.get(key(nsName, name));
    if (!old) return fail(404, 'NotFound', `${kind.plural}.${kind.group} "${name}" not found`);
    if (req.method === 'GET') return reply(200, old);
    if (req.method === 'DELETE') {
      objects.delete(key(nsName, name));
      emit('DELETED', { ...old, metadata: { ...old.metadata, resourceVersion: String(++rv) } });
      return reply(200, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Success',
        details: { name, kind: kind.plural },
      });
    }
    let next: Obj;
    if (req.method === 'PUT') {
      next = JSON.parse(await body()) as Obj;
      const given = next.metadata?.resourceVersion as string | undefined;
      if (given && given !== old.metadata.resourceVersion)
        return fail(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${kind.plural} "${name}": the object has been modified`,
        );
    } else if (req.method === 'PATCH') {
      const type = String(req.headers['content-type'] ?? '').split(';')[0];
      const patch = JSON.parse(await body()) as unknown;
      if (type === 'application/merge-patch+json') next = mergePatch(structuredClone(old), patch) as Obj;
      else if (type === 'application/json-patch+json') next = jsonPatch(structuredClone(old), patch as Op[]);
      else return fail(415, 'UnsupportedMediaType', `patch type ${type} not supported`);
    } else {
      return fail(405, 'MethodNotAllowed', `${req.method} not supported`);
    }
    if (sub === 'status')
      return reply(200, store({ ...old, metadata: { ...old.metadata }, status: next.status }, 'MODIFIED'));
    return reply(200, write(old, next));
  }

  return {
    handle,
    items: () => [...objects.values()].map((o) => structuredClone(o)),
    closeWatches: () => {
      for (const w of [...watchers]) end(w);
    },
  };
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface Op {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/** RFC 6902 JSON patch: add, replace, remove and test (what kubectl patch --type json uses). */
function jsonPatch(doc: Obj, ops: Op[]): Obj {
  for (const { op, path, value } of ops) {
    const parts = path
      .split('/')
      .slice(1)
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = parts.pop()!;
    let parent: any = doc;
    for (const p of parts) parent = parent?.[p];
    if (parent === undefined || parent === null) throw new Error(`json patch: no parent for ${path}`);
    if (op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(value))
        throw new Error(`json patch: test failed at ${path}`);
    } else if (Array.isArray(parent) && op === 'add') {
      parent.splice(last === '-' ? parent.length : Number(last), 0, value);
    } else {
      parent[last] = value;
    }
  }
  return doc;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
