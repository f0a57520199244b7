import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRootDir, runPanda, startStack, submitWorkflow, waitForWorkflow } from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import { stringify } from 'yaml';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-monitor-');
const artifacts = join(root, 'e2e', 'artifacts');
const CHROMIUM = '/usr/bin/chromium';

/** The page's document, as the functions given to `page.evaluate` (run in the browser) use it. */
declare const document: { body: { dataset: Record<string, string | undefined> } };

/** A small DAG whose `b` always fails (2 attempts), so `d` is pruned and the workflow ends SubFinished. */
const failingWorkflow = {
  name: 'monitor-e2e',
  campaign: 'browser',
  user: 'tester',
  queue: 'SLAC_Rubin',
  maxAttempts: 2,
  jobs: [
    { name: 'a', label: 'init', command: 'echo hello' },
    { name: 'b', label: 'mid', command: 'echo "disk quota exceeded" >&2; exit 3', parents: ['a'] },
    { name: 'c', label: 'mid', command: 'echo fine', parents: ['a'] },
    { name: 'd', label: 'last', command: 'echo never', parents: ['b', 'c'] },
  ],
};

/**
 * A job that logs a line a second for 18 s (an ERROR line on stderr at tick 3) and grows its
 * memory (a 40 MB string at tick 5, 80 MB more at tick 10), to watch live and then plot.
 */
const TICKER = [
  'for i in $(seq 1 18); do',
  '  echo "tick $i"',
  '  if [ $i = 3 ]; then echo "ERROR something odd at tick $i" >&2; fi',
  '  if [ $i = 5 ]; then x=$(head -c 40000000 /dev/zero | tr "\\0" a); fi',
  '  if [ $i = 10 ]; then y=$x$x; fi',
  '  sleep 1',
  'done',
  'echo "done: ${#x} ${#y}"',
].join('\n');

describe.skipIf(!existsSync(CHROMIUM))('monitor in a real browser (Debian chromium)', () => {
  let stack: Stack;
  let cli: PandaCli;
  let browser: Browser;
  let page: Page;
  let base: string;
  let workflowId: number;

  const shot = async (name: string) => {
    await page.screenshot({ path: join(artifacts, `monitor-${name}.png`), fullPage: true });
  };
  const json = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers: { accept: 'application/json' } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    stack = await startStack({ dir, logLevel: 'info', cycleMs: 500 });
    cli = { repoRoot: root, env: stack.cliEnv };
    base = stack.addresses.monitorUrl;
    const file = join(dir, 'failing.yaml');
    writeFileSync(file, stringify(failingWorkflow));
    workflowId = await submitWorkflow(cli, file);
    await waitForWorkflow(cli, workflowId, { timeoutMs: 120_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('follows workflow -> task -> failed job -> error description -> log, with screenshots', async () => {
    // the workflow list shows the finished workflow with its tasks by state
    await page.goto(`${base}/workflows?user=tester`);
    await expect.poll(() => page.locator(`tr[data-workflow="${workflowId}"]`).count()).toBe(1);
    expect(await page.locator(`tr[data-workflow="${workflowId}"] .state`).first().textContent()).toBe(
      'SubFinished',
    );
    await shot('workflows');

    // the workflow page: report table, the DAG of labels, the tasks
    await page.click(`a[href="/workflows/${workflowId}"]`);
    await page.waitForSelector('svg.dag');
    expect(await page.locator('svg.dag g.node').count()).toBe(3);
    expect(await page.locator('svg.dag g.node.failed').getAttribute('data-label')).toBe('mid');
    await shot('workflow-detail');

    // the task of label mid: job states link to filtered job lists
    await page.locator('table.tasks tr', { hasText: 'mid' }).locator('td a').first().click();
    await page.waitForSelector('#job-states');
    expect(await page.locator('figure.hist').count()).toBeGreaterThan(0);
    await shot('task-detail');
    await page.locator('#job-states a', { hasText: 'failed' }).first().click();
    await page.waitForSelector('table.jobs');
    const failedRows = page.locator('table.jobs tbody tr');
    expect(await failedRows.count()).toBe(2); // two attempts of b
    await shot('jobs-failed');

    // the job page: every error pair with its catalogue description and category, the attempts
    await failedRows.first().locator('td a').first().click();
    await page.waitForSelector('table.errors');
    const errors = await page.locator('table.errors').innerText();
    expect(errors).toContain('1305');
    expect(errors).toContain('Failed to execute payload');
    expect(errors).toContain('disk quota exceeded');
    expect(await page.locator('table.attempts tbody tr').count()).toBe(2);
    await shot('job-detail');

    // the log link opens the job's log (or says why there is none)
    await page.click('a:has-text("live log tail")');
    await page.waitForSelector('h1');
    expect(await page.locator('h1').innerText()).toMatch(/Log of job \d+/);
    await shot('job-log');

    // errors summary, queues, workers
    for (const path of ['/errors', '/queues', '/workers']) {
      await page.goto(`${base}${path}`);
      expect(await page.locator('h1').innerText()).not.toBe('Service unavailable');
      await shot(path.slice(1));
    }
    expect(await page.locator('table.workers tbody tr').count()).toBeGreaterThan(0);
  });

  it('serves every page as JSON at the same URL', async () => {
    const detail = await json<{ tasks: { taskId: number; label: string }[]; dag: unknown[] }>(
      `/workflows/${workflowId}`,
    );
    expect(detail.dag).toEqual([
      { parent: 'init', child: 'mid' },
      { parent: 'mid', child: 'last' },
    ]);
    const mid = detail.tasks.find((t) => t.label === 'mid');
    expect(mid).toBeDefined();
    const task = await json<{ jobStates: Record<string, number>; errors: { code: number; count: number }[] }>(
      `/tasks/${mid?.taskId}`,
    );
    expect(task.jobStates['failed']).toBe(2);
    expect(task.errors.find((e) => e.code === 1305)?.count).toBe(2);
    const jobs = await json<{ jobs: { pandaId: number; attemptNr: number }[] }>(
      `/jobs?workflowId=${workflowId}&state=failed&drop=1`,
    );
    expect(jobs.jobs.map((j) => j.attemptNr)).toEqual([2]); // earlier attempt hidden
    const job = await json<{ job: { errors: { code: number; category: string }[] }; attempts: unknown[] }>(
      `/jobs/${jobs.jobs[0]?.pandaId}`,
    );
    expect(job.job.errors.find((e) => e.code === 1305)?.category).not.toBe('');
    expect(job.attempts).toHaveLength(2);
    const errors = await json<{ overall: { code: number }[]; byUser: { key: string }[] }>(
      `/errors?user=tester`,
    );
    expect(errors.overall.map((e) => e.code)).toContain(1305);
    expect(errors.byUser.map((e) => e.key)).toContain('tester');
    const queues = await json<{ queues: { name: string; workers: Record<string, number> }[] }>('/queues');
    expect(queues.queues.find((q) => q.name === 'SLAC_Rubin')).toBeDefined();
    const workers = await json<{ workers: { workerId: string }[] }>('/workers');
    const worker = await json<{ worker: { workerId: string } }>(`/workers/${workers.workers[0]?.workerId}`);
    expect(worker.worker.workerId).toBe(workers.workers[0]?.workerId);
    const bad = await fetch(`${base}/jobs?state=bogus`, { headers: { accept: 'application/json' } });
    expect(bad.status).toBe(400);
  });

  it('updates the workflow list live, without a reload, when a new workflow arrives', async () => {
    await page.goto(`${base}/workflows`);
    await page.waitForSelector('#live.on');
    const before = await page.locator('tr[data-workflow]').count();
    const file = join(dir, 'one.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'live',
        user: 'tester',
        queue: 'SLAC_Rubin',
        jobs: [{ name: 'x', label: 'one', command: 'true' }],
      }),
    );
    const id = await submitWorkflow(cli, file);
    await expect.poll(() => page.locator(`tr[data-workflow="${id}"]`).count(), { timeout: 20_000 }).toBe(1);
    expect(await page.locator('tr[data-workflow]').count()).toBe(before + 1);
    expect(Number(await page.evaluate(() => document.body.dataset['updates'] ?? '0'))).toBeGreaterThan(0);
    await shot('workflows-live');
  });

  it("follows a running job's log live in the page, then plots its memory once it finished", async () => {
    const file = join(dir, 'ticker.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'ticker',
        user: 'tester',
        queue: 'SLAC_Rubin',
        labels: { tick: { memoryMb: 400 } },
        jobs: [{ name: 't', label: 'tick', command: TICKER }],
      }),
    );
    const id = await submitWorkflow(cli, file);
    let pandaId = 0;
    await expect
      .poll(
        async () => {
          const { jobs } = await json<{ jobs: { pandaId: number; state: string }[] }>(
            `/jobs?workflowId=${id}`,
          );
          pandaId = jobs[0]?.pandaId ?? 0;
          return jobs[0]?.state;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe('running');

    // the log page follows the job: lines arrive without a reload, with their severity
    await page.goto(`${base}/jobs/${pandaId}/log`);
    await page.evaluate(() => {
      document.body.dataset['marker'] = 'same page';
    });
    await page.waitForSelector('#tail-status.following', { timeout: 10_000 });
    const lines = () => page.locator('#log-lines .line').count();
    await expect.poll(lines, { timeout: 15_000 }).toBeGreaterThan(0);
    const before = await lines();
    await expect.poll(lines, { timeout: 15_000 }).toBeGreaterThan(before);
    await expect.poll(() => page.locator('#log-lines .line.sev-error').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('#log-lines .line.sev-error').innerText()).toContain('something odd at tick 3');
    expect(await page.evaluate(() => document.body.dataset['marker'])).toBe('same page');
    await shot('job-live-log');

    // the job ends: the tail says so and stops, with every line once
    await page.waitForSelector('body[data-tail="ended"]', { timeout: 60_000 });
    expect(await page.locator('#tail-status').innerText()).toMatch(/log complete/);
    const text = await page.locator('#log-lines').innerText();
    expect(text.match(/tick 18\b/g)).toHaveLength(1);
    expect(text).toContain('done: 40000000 80000000');

    // the finished job's page plots the memory series from its log archive
    await page.goto(`${base}/jobs/${pandaId}`);
    await page.waitForSelector('svg.memory g.line path');
    expect(await page.locator('svg.memory g.line path').count()).toBe(4);
    expect(await page.locator('svg.memory .mem-limit').getAttribute('data-limit-mb')).toBe('400');
    expect(await page.locator('#memory figcaption').innerText()).toMatch(/max PSS \d+/);
    await page.locator('#memory').scrollIntoViewIfNeeded();
    await shot('job-memory');
    const memory = await json<{ status: string; samples: { t: number; pssKb: number }[] }>(
      `/jobs/${pandaId}/memory`,
    );
    expect(memory.status).toBe('ok');
    expect(memory.samples.length).toBeGreaterThanOrEqual(3);
    // the 120 MB the payload held by the end show in the series
    expect(Math.max(...memory.samples.map((s) => s.pssKb))).toBeGreaterThan(100 * 1024);
  });

  it('CLI: tasks, task, jobs, job, queues, workers, cancel', async () => {
    const tasks = await runPanda(cli, ['tasks', String(workflowId), '--json']);
    expect(tasks.code).toBe(0);
    const mid = (JSON.parse(tasks.stdout) as { tasks: { taskId: number; label: string }[] }).tasks.find(
      (t) => t.label === 'mid',
    );
    const task = await runPanda(cli, ['task', String(mid?.taskId)]);
    expect(task.code).toBe(0);
    expect(task.stdout).toContain('failed 2');
    const jobs = await runPanda(cli, [
      'jobs',
      '--workflow',
      String(workflowId),
      '--state',
      'failed',
      '--json',
    ]);
    const failed = (JSON.parse(jobs.stdout) as { jobs: { pandaId: number }[] }).jobs;
    expect(failed).toHaveLength(2);
    const job = await runPanda(cli, ['job', String(failed[0]?.pandaId)]);
    expect(job.code).toBe(0);
    expect(job.stdout).toContain('Failed to execute payload');
    expect((await runPanda(cli, ['job', '999999'])).code).toBe(3);
    expect((await runPanda(cli, ['queues'])).stdout).toContain('SLAC_Rubin');
    expect((await runPanda(cli, ['workers', '--json'])).code).toBe(0);
    // cancel of an unknown workflow: 3 (not found), or 2 while idds has no CancelWorkflow
    const cancel = await runPanda(cli, ['cancel', '999999']);
    expect([2, 3]).toContain(cancel.code);
    expect(cancel.stderr).toMatch(/not found|not yet supported by idds/);
  });
});
