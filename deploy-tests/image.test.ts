// The root Dockerfile and skaffold.yaml, checked without a docker engine: the Dockerfile's
// invariants are read from its text, and its one step that decides what the image holds,
// `pnpm deploy --prod`, is run here for every service on the built workspace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, SERVICE_CHARTS, UMBRELLA } from './helm.js';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** Instructions per stage (a stage starts at FROM), plus the global ARGs before the first. */
function stages(instructions: Instruction[]): { globals: Instruction[]; stages: Instruction[][] } {
  const out: Instruction[][] = [];
  const globals: Instruction[] = [];
  for (const i of instructions) {
    if (i.op === 'FROM') out.push([i]);
    else if (out.length === 0) globals.push(i);
    else out[out.length - 1]!.push(i);
  }
  return { globals, stages: out };
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const { globals, stages: allStages } = stages(dockerfile);
const runtime = allStages.at(-1) ?? [];
const build = allStages.slice(0, -1).flat();
/** Every service that runs: a services/<name> with a src/main.ts, less the CLI. */
const RUNNABLE = readdirSync(join(ROOT, 'services')).filter(
  (s) => s !== 'cli' && existsSync(join(ROOT, 'services', s, 'src', 'main.ts')),
);

describe('Dockerfile', () => {
  it('given the Dockerfile, then it is multi-stage on a pinned Node 20 slim base', () => {
    expect(allStages.length).toBeGreaterThanOrEqual(2);
    const arg = globals.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:20\.\d+\.\d+-(bookworm-)?slim(@sha256:[0-9a-f]{64})?$/);
    for (const stage of allStages) expect(stage[0]!.args).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
  });

  it('given the build stages, then the lockfile is frozen and one service is pruned with pnpm deploy --prod', () => {
    const runs = build.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('pnpm install --frozen-lockfile'))).toBe(true);
    expect(runs.some((r) => /pnpm --filter "@panda\/\$\{SERVICE\}" deploy --prod/.test(r))).toBe(true);
    expect(build.some((i) => i.op === 'ARG' && i.args === 'SERVICE')).toBe(true);
  });

  it('given the runtime stage, then it runs node under tini as a numeric non-root user', () => {
    expect(runtime.filter((i) => i.op === 'RUN').some((i) => /apt-get install .*\btini\b/.test(i.args))).toBe(
      true,
    );
    const user = runtime.filter((i) => i.op === 'USER').at(-1);
    expect(user?.args).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user?.args.split(':')[0])).toBeGreaterThan(0);
    const entrypoint = runtime.filter((i) => i.op === 'ENTRYPOINT').at(-1);
    expect(JSON.parse(entrypoint?.args ?? 'null')).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '/app/dist/main.js',
    ]);
    // Nothing is written under /app at run time: the root filesystem may be read-only.
    expect(runtime.some((i) => i.op === 'VOLUME')).toBe(false);
    expect(runtime.find((i) => i.op === 'COPY')?.args).toContain('--chown=root:root');
  });

  it('given .dockerignore, then local builds, modules and secrets stay out of the context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['.git', '**/node_modules', '**/dist', '.local', 'charts']) expect(ignored).toContain(p);
  });
});

describe('pnpm deploy --prod, the step that makes each image', () => {
  const out = mkdtempSync(join(tmpdir(), 'panda-deploy-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(RUNNABLE)(
    'given the built workspace, when %s is deployed, then it starts from the pruned folder without dev dependencies',
    (service) => {
      const target = join(out, service);
      const deploy = spawnSync(
        'pnpm',
        ['--filter', `@panda/${service}`, 'deploy', '--prod', '--prefer-offline', target],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
      expect(deploy.status, deploy.stderr + deploy.stdout).toBe(0);
      expect(existsSync(join(target, 'dist', 'main.js'))).toBe(true);
      expect(existsSync(join(target, 'node_modules', 'vitest'))).toBe(false);
      expect(existsSync(join(target, 'node_modules', 'typescript'))).toBe(false);
      // With no configuration a service stops at once naming what is missing; what matters is that
      // every import resolved from the pruned node_modules.
      const env = { PATH: process.env.PATH ?? '', HOME: out };
      const run = spawnSync(process.execPath, [join(target, 'dist', 'main.js'), '--help'], {
        cwd: out,
        env,
        encoding: 'utf8',
        timeout: 15_000,
      });
      const output = `${run.stdout}${run.stderr}`;
      expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
      expect(output).toMatch(/PANDA_|usage/);
    },
  );
});

describe('skaffold.yaml', () => {
  const skaffold = parse(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')) as {
    build: { artifacts: { image: string; docker: { dockerfile: string; buildArgs: { SERVICE: string } } }[] };
    deploy: {
      helm: {
        releases: { chartPath: string; valuesFiles: string[]; setValueTemplates: Record<string, string> }[];
      };
    };
    profiles: { name: string; patches: { path: string; value: string[] }[] }[];
  };

  it('given skaffold.yaml, then every runnable service, the pilot included, is built from the root Dockerfile', () => {
    const artifacts = skaffold.build.artifacts;
    expect(artifacts.map((a) => a.image).sort()).toEqual(RUNNABLE.map((s) => `panda-${s}`).sort());
    for (const a of artifacts) {
      expect(a.docker.dockerfile).toBe('Dockerfile');
      expect(a.image).toBe(`panda-${a.docker.buildArgs.SERVICE}`);
    }
  });

  it('given the helm release, then each built image is handed to the chart that runs it', () => {
    const [release] = skaffold.deploy.helm.releases;
    expect(release?.chartPath).toBe('charts/panda');
    const keys = Object.keys(release?.setValueTemplates ?? {});
    for (const svc of SERVICE_CHARTS) {
      expect(keys).toContain(`${svc}.image.repository`);
      expect(release?.setValueTemplates[`${svc}.image.tag`]).toBe(
        `{{.IMAGE_TAG_panda_${svc.replace('-', '_')}}}`,
      );
    }
    expect(release?.setValueTemplates['harvester.workers.image.repository']).toBe(
      '{{.IMAGE_REPO_panda_pilot}}',
    );
  });

  it('given the profiles, then dev and prod-like deploy with their value files, which exist', () => {
    const byName = Object.fromEntries(skaffold.profiles.map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(['dev', 'prod-like']);
    for (const [name, file] of [
      ['dev', 'values-dev.yaml'],
      ['prod-like', 'values-prod-like.yaml'],
    ] as const) {
      const files = byName[name]!.patches.find((p) => p.path.endsWith('/valuesFiles'))!.value;
      expect(files).toEqual(['charts/panda/values.yaml', `charts/panda/${file}`]);
      expect(existsSync(join(UMBRELLA, file))).toBe(true);
    }
  });
});
