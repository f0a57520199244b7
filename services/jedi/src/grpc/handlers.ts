import type { TaskServiceImplementation } from '@panda/proto';
import type { TaskStore } from '../tasks/task-store.js';

export function taskService(store: TaskStore): TaskServiceImplementation {
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
  };
}
