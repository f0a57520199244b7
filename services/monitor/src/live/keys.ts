import { JobsChanged, TaskChanged, WorkerChanged, WorkflowChanged, InputsDone } from '@panda/proto';
import type { LiveEvent } from './hub.js';

const MAX_KEYS = 300;

/**
 * Keys of what a `panda.*` event touched, from its protobuf payload: `workflows`, `workflow:<id>`,
 * `task:<id>`, `jobs`, `job:<pandaId>`, `queue:<name>`, `workers`, `worker:<id>`.
 * An undecodable payload still gives the kind key, so pages refresh rather than go stale.
 */
export function eventKeys(subject: string, data: Uint8Array): LiveEvent {
  const kind = subject.split('.')[1] ?? '';
  const keys = new Set<string>();
  try {
    switch (kind) {
      case 'workflow': {
        const e = WorkflowChanged.decode(data);
        keys.add('workflows').add(`workflow:${e.workflowId}`);
        break;
      }
      case 'task': {
        const e = TaskChanged.decode(data);
        keys.add('workflows').add(`workflow:${e.workflowId}`).add(`task:${e.taskId}`);
        break;
      }
      case 'job': {
        keys.add('jobs');
        for (const j of JobsChanged.decode(data).jobs) {
          if (keys.size >= MAX_KEYS) break;
          keys
            .add(`job:${j.pandaId}`)
            .add(`task:${j.taskId}`)
            .add(`workflow:${j.workflowId}`)
            .add(`queue:${j.queue}`);
        }
        break;
      }
      case 'input': {
        if (subject === 'panda.input.done') {
          const e = InputsDone.decode(data);
          keys.add('workflows').add(`workflow:${e.workflowId}`).add(`task:${e.taskId}`);
        }
        break;
      }
      case 'worker': {
        const e = WorkerChanged.decode(data);
        keys.add('workers').add(`worker:${e.workerId}`).add(`queue:${e.queue}`);
        break;
      }
      default:
        break;
    }
  } catch {
    keys.add(kind === 'job' ? 'jobs' : `${kind}s`);
  }
  return { subject, keys: [...keys] };
}
