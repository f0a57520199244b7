import { randomBytes } from 'node:crypto';
import { closeBus, connectBus, createLogger, Database, ensureEventsStream, Outbox } from '@panda/platform';
import type { Bus } from '@panda/platform';
import type { CreateTasksRequest, SubmitWorkflowChunk, TaskServiceClient } from '@panda/proto';
import { createDatabase } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations, SCHEMA } from '../db/migrations.js';
import { jobSpec as job, workflowSpec } from './specs.fixture.js';
import { StreamIngest } from './stream-submit.js';
import { WorkflowSubmitter } from './submit.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** init -> 5 x isr -> 5 x char (one each): init is a gate for a threshold of 3, isr is not. */
async function* fanout(name: string): AsyncGenerator<SubmitWorkflowChunk> {
  yield { header: workflowSpec({ name, campaign: 'c' }), jobs: [] };
  const jobs = [job('init_1', [])];
  for (let i = 1; i <= 5; i++) jobs.push(job(`isr_${i}`, ['init_1']), job(`char_${i}`, [`isr_${i}`]));
  yield { header: undefined, jobs };
}

/** A jedi that answers CreateTasks after `release()`, refusing to stage node `isr_5`. */
function slowJedi(nodeIdOf: () => Promise<Map<string, number>>) {
  const calls: CreateTasksRequest[] = [];
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  let nextTask = 100;
  const client = {
    async createTasks(req: CreateTasksRequest) {
      calls.push(req);
      await open;
      const isr5 = (await nodeIdOf()).get('isr_5');
      return {
        tasks: req.tasks.map((t) => ({
          name: t.name,
          taskId: nextTask++,
          unstagedNodeIds: t.inputs.filter((i) => i.nodeId === isr5).map((i) => i.nodeId),
        })),
      };
    },
  } as unknown as TaskServiceClient;
  return { client, calls, release };
}

describe('workflow activation', () => {
  let db: Database;
  let bus: Bus;
  const stop = new AbortController();

  beforeAll(async () => {
    const url = await createDatabase(inject('pgUrl'), `idds_${randomBytes(4).toString('hex')}`);
    db = await Database.connect({ url, schema: SCHEMA, migrations });
    await db.migrate();
    bus = await connectBus({ url: inject('natsUrl'), name: 'test', logger });
    await ensureEventsStream(bus.jsm);
  });
  afterAll(async () => {
    stop.abort();
    await closeBus(bus);
    await db.close();
  });

  it('stages a wide fan-out, runs one activation at a time, and takes back what jedi could not stage', async () => {
    // given a stored workflow whose init has five only-children
    const { workflowId } = await db.tx((sql) => new StreamIngest(sql, 10_000, 3).run(fanout('wf')));
    const nodeIds = async () =>
      new Map(
        (
          await db.query<{ name: string; node_id: string }>(
            `SELECT name, node_id FROM idds.nodes WHERE workflow_id = $1`,
            [workflowId],
          )
        ).map((n) => [n.name, Number(n.node_id)]),
      );
    const jedi = slowJedi(nodeIds);
    const outbox = new Outbox(db, bus.js, logger);
    const submitter = new WorkflowSubmitter(db, outbox, jedi.client, logger, {
      maxJobsPerTask: 10_000,
      defaultMaxAttempts: 3,
      stageFanoutMin: 3,
    });

    // when it is activated while a resumer (no age limit) tries the same
    const first = submitter.activate(workflowId);
    await new Promise((r) => setTimeout(r, 200));
    await submitter.resumeNew(0);
    await submitter.activate(workflowId);
    // then only the first asked jedi anything (its tasks side by side, each once, waiting for the answer)
    const asked = jedi.calls.map((c) => c.tasks[0]!.label);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked).size).toBe(asked.length);
    jedi.release();
    await first;
    // and the tasks were registered in the workflow's order, then every input went once
    expect(jedi.calls.slice(0, 3).map((c) => c.tasks[0]!.label)).toEqual(['init', 'isr', 'char']);
    const sent = jedi.calls.flatMap((c) => c.tasks.flatMap((t) => t.inputs.map((i) => i.name)));
    const names = ['init_1', ...[1, 2, 3, 4, 5].flatMap((i) => [`isr_${i}`, `char_${i}`])];
    expect(sent.sort()).toEqual(names.sort());

    // and the isr inputs went to jedi with init as their gate, the others without
    const ids = await nodeIds();
    const gates = Object.fromEntries(
      jedi.calls.flatMap((c) => c.tasks.flatMap((t) => t.inputs.map((i) => [i.name, i.gateNodeId]))),
    );
    expect(gates).toMatchObject({ init_1: 0, isr_1: ids.get('init_1'), isr_5: ids.get('init_1'), char_1: 0 });
    // and the node jedi could not stage waits unreleased, the other four staged, init released
    const states = Object.fromEntries(
      (
        await db.query<{ name: string; state: string; is_gate: boolean }>(
          `SELECT name, state, is_gate FROM idds.nodes WHERE workflow_id = $1`,
          [workflowId],
        )
      ).map((n) => [n.name, `${n.state}${n.is_gate ? ' gate' : ''}`]),
    );
    expect(states).toMatchObject({
      init_1: 'released gate',
      isr_1: 'staged',
      isr_4: 'staged',
      isr_5: 'unreleased',
      char_1: 'unreleased',
    });
    const [wf] = await db.query<{ state: string; activation_lease: Date | null }>(
      `SELECT state, activation_lease FROM idds.workflows WHERE workflow_id = $1`,
      [workflowId],
    );
    expect(wf).toEqual({ state: 'Transforming', activation_lease: null });
  });
});
