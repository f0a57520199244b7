import type { TaskServiceImplementation } from '@panda/proto';
import type { TaskCommands } from '../tasks/task-commands.js';
import type { TaskStore } from '../tasks/task-store.js';

export function taskService(store: TaskStore, commands: TaskCommands): TaskServiceImplementation {
  return {
    async createTasks(req) {
      return { tasks: await store.create(req) };
    },
    async getTask(req) {
      return store.get(req.taskId);
    },
    async listTasks(req) {
      return { tasks: await store.list(req.workflowId) };
    },
    async killTask(req, ctx) {
      return commands.kill(req.taskId, ctx.signal);
    },
    async finishTask(req, ctx) {
      return commands.finish(req.taskId, req.hard, ctx.signal);
    },
    async retryTask(req) {
      return commands.retry(req.taskId);
    },
    async pauseTask(req, ctx) {
      return commands.pause(req.taskId, ctx.signal);
    },
    async resumeTask(req, ctx) {
      return commands.resume(req.taskId, ctx.signal);
    },
    async restartInputs(req) {
      return commands.restartInputs(req.taskId, req.rerunNodeIds, req.resetNodeIds);
    },
    async setTaskPriority(req, ctx) {
      return commands.setPriority(req.taskId, req.priority, ctx.signal);
    },
  };
}
