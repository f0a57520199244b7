// Prometheus metrics: harvester on its own metrics port, pilot-gateway on its main port, each with
// scrape annotations and an optional ServiceMonitor.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helm.js';
import { runHelm, template, UMBRELLA } from './helm.js';
import type { Workload } from './charts-support.js';
import { byKind, named, renderSets, SETS } from './charts-support.js';
import { validateObjects } from './validate.js';

const rendered = renderSets();

describe.each(SETS)('umbrella rendered with %s values', (set) => {
  const objects = () => rendered[set];

  it('then harvester serves Prometheus metrics on a declared, annotated port its Service exposes', () => {
    const deployment = named<
      Workload & { spec: { template: { metadata: { annotations?: Record<string, string> } } } }
    >(objects(), 'Deployment', 'panda-harvester');
    const [c] = deployment.spec.template.spec.containers;
    expect(c?.ports).toContainEqual({ name: 'metrics', containerPort: 9090 });
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'prometheus.io/path': '/metrics',
    });
    const env = named<{ data: Record<string, string> }>(objects(), 'ConfigMap', 'panda-harvester-env').data;
    expect(env).toMatchObject({ PANDA_METRICS_PORT: '9090', PANDA_METRICS_HOST: '0.0.0.0' });
    const service = named<{ spec: { ports: { name: string; port: number; targetPort: string }[] } }>(
      objects(),
      'Service',
      'panda-harvester',
    );
    expect(service.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'metrics', port: 9090, targetPort: 'metrics' }),
    );
    // (no other service exposes a metrics port unless its chart enables it)
    const [server] = named<Workload>(objects(), 'Deployment', 'panda-server').spec.template.spec.containers;
    expect(server?.ports?.map((p) => p.name)).not.toContain('metrics');
    expect(byKind(objects(), 'ServiceMonitor')).toEqual([]);
  });

  it('then pilot-gateway serves Prometheus metrics on its main port, annotated for scraping', () => {
    const deployment = named<
      Workload & { spec: { template: { metadata: { annotations?: Record<string, string> } } } }
    >(objects(), 'Deployment', 'panda-pilot-gateway');
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
    // GET /metrics is a route of the gateway's HTTP server: no separate port, no PANDA_METRICS_*
    const [c] = deployment.spec.template.spec.containers;
    expect(c?.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    const env = named<{ data: Record<string, string> }>(
      objects(),
      'ConfigMap',
      'panda-pilot-gateway-env',
    ).data;
    expect(env.PANDA_HTTP_PORT).toBe('8080');
    expect(Object.keys(env).filter((k) => k.startsWith('PANDA_METRICS_'))).toEqual([]);
    const service = named<{ spec: { ports: { name: string; port: number; targetPort: string }[] } }>(
      objects(),
      'Service',
      'panda-pilot-gateway',
    );
    expect(service.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([['http', 8080, 'http']]);
  });
});

describe('value sets', () => {
  it('given a ServiceMonitor asked for, then one selects harvester on its metrics port', () => {
    const objects = template('default', ['--set', 'harvester.metrics.serviceMonitor.enabled=true']);
    const [monitor] = byKind<
      K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
      }
    >(objects, 'ServiceMonitor');
    expect(monitor?.metadata.name).toBe('panda-harvester');
    expect(monitor?.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(monitor?.spec.selector.matchLabels).toMatchObject({ 'app.kubernetes.io/name': 'harvester' });
    expect(validateObjects(objects)).toEqual([]);
  });

  it('given a ServiceMonitor asked for the gateway, then one selects pilot-gateway on its http port', () => {
    const objects = template('prod-like', [
      '--set',
      'pilot-gateway.metrics.serviceMonitor.enabled=true',
      '--set',
      'pilot-gateway.metrics.serviceMonitor.interval=15s',
      '--set',
      'pilot-gateway.metrics.serviceMonitor.labels.release=kube-prometheus',
    ]);
    const monitors = byKind<
      K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
      }
    >(objects, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name)).toEqual(['panda-pilot-gateway']);
    const [monitor] = monitors;
    expect(monitor?.metadata.labels).toMatchObject({ release: 'kube-prometheus' });
    expect(monitor?.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s' }]);
    expect(monitor?.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'pilot-gateway',
      'app.kubernetes.io/instance': 'panda',
    });
    // the endpoint's port is a port of the Service the monitor selects
    const service = named<K8sObject & { spec: { ports: { name: string }[] } }>(
      objects,
      'Service',
      'panda-pilot-gateway',
    );
    expect(service.metadata.labels).toMatchObject(monitor!.spec.selector.matchLabels);
    expect(service.spec.ports.map((p) => p.name)).toContain('http');
    expect(validateObjects(objects)).toEqual([]);
  });

  it('given a gRPC service asked for metrics without a metrics port, then the chart refuses to render', () => {
    const r = runHelm(['template', 'panda', UMBRELLA, '--set', 'server.metrics.enabled=true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('metrics.enabled needs metrics.port');
  });

  it("given the gateway's load settings in values, then they reach its ConfigMap and roll its pods", () => {
    // given: unset by default, so the gateway's own defaults apply (docs/operations.md)
    const settings = {
      PANDA_UPDATE_BATCH_MAX: '500',
      PANDA_UPDATE_BATCH_WINDOW_MS: '10',
      PANDA_SERVER_MAX_IN_FLIGHT: '32',
      PANDA_SERVER_MAX_QUEUED: '8000',
      PANDA_OVERLOAD_RETRY_AFTER_S: '5',
    };
    const envOf = (objects: K8sObject[]) =>
      named<{ data: Record<string, string> }>(objects, 'ConfigMap', 'panda-pilot-gateway-env').data;
    const checksumOf = (objects: K8sObject[]) =>
      named<K8sObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } }>(
        objects,
        'Deployment',
        'panda-pilot-gateway',
      ).spec.template.metadata.annotations['checksum/env'];
    const defaults = rendered.default;
    expect(Object.keys(envOf(defaults)).filter((k) => k in settings)).toEqual([]);

    // when they are set under pilot-gateway.env
    const objects = template(
      'default',
      Object.entries(settings).flatMap(([k, v]) => ['--set', `pilot-gateway.env.${k}=${v}`]),
    );

    // then the ConfigMap holds them as strings and the pod template changes with them
    expect(envOf(objects)).toMatchObject({ ...settings, PANDA_REQUIRE_TOKEN: 'true' });
    expect(checksumOf(objects)).not.toBe(checksumOf(defaults));
    expect(validateObjects(objects)).toEqual([]);
  });
});
