import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatFields, formatTable, isoOf, toJson } from '../format/table.js';
import { call } from '../grpc/call.js';
import type { CommandContext, JsonOption } from './context.js';
import { parseId } from './ids.js';

/** `panda tasks <workflowId>`: the workflow's tasks with their input counts. */
export async function runTasks(idText: string, options: JsonOption, ctx: CommandContext): Promise<ExitCode> {
  const workflowId = parseId(idText, 'workflow id');
  const { tasks } = await call(ctx.services.tasks(), { signal: ctx.signal }, (c, o) =>
    c.listTasks({ workflowId }, o),
  );
  if (options.json) {
    ctx.output.out(toJson({ tasks }));
    return ExitCode.Ok;
  }
  if (tasks.length === 0) {
    ctx.output.out(`workflow ${workflowId} has no tasks`);
    return ExitCode.Ok;
  }
  ctx.output.out(
    formatTable(
      ['TASK', 'NAME', 'LABEL', 'STATE', 'QUEUE', 'INPUTS', 'FINISHED', 'FAILED', 'MISSING'],
      tasks.map((t) => [
        t.taskId,
        t.name,
        t.label,
        t.state,
        t.queue,
        t.inputsTotal,
        t.inputsFinished,
        t.inputsFailed,
        t.inputsMissing,
      ]),
    ),
  );
  return ExitCode.Ok;
}

/** `panda task <taskId>`: one task and its jobs by state. */
export async function runTask(idText: string, options: JsonOption, ctx: CommandContext): Promise<ExitCode> {
  const taskId = parseId(idText, 'task id');
  const task = await call(
    ctx.services.tasks(),
    { signal: ctx.signal, notFound: `task ${taskId} not found` },
    (c, o) => c.getTask({ taskId }, o),
  );
  const { counts } = await call(ctx.services.jobs(), { signal: ctx.signal }, (c, o) =>
    c.countJobs({ taskIds: [taskId] }, o),
  );
  const jobs = Object.fromEntries(counts.map((c) => [c.state, c.count]));
  if (options.json) {
    ctx.output.out(toJson({ task, jobs }));
    return ExitCode.Ok;
  }
  ctx.output.out(
    formatFields([
      ['task', task.taskId],
      ['name', task.name],
      ['workflow', task.workflowId],
      ['label', task.label],
      ['state', task.state],
      ['queue', task.queue],
      [
        'inputs',
        `${task.inputsTotal} total, ${task.inputsFinished} finished, ${task.inputsFailed} failed, ${task.inputsMissing} missing`,
      ],
      [
        'jobs',
        Object.entries(jobs)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ') || 'none',
      ],
      ['created', isoOf(task.createdAt)],
    ]),
  );
  return ExitCode.Ok;
}

export function registerTasks(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('tasks')
    .description("list a workflow's tasks")
    .argument('<workflowId>', 'workflow id')
    .option('--json', 'print {tasks} as JSON')
    .action(async (id: string, options: JsonOption) => done(await runTasks(id, options, ctx)));
  program
    .command('task')
    .description('show one task and its jobs by state')
    .argument('<taskId>', 'task id')
    .option('--json', 'print {task, jobs} as JSON')
    .action(async (id: string, options: JsonOption) => done(await runTask(id, options, ctx)));
}
