/** The gateway's app under test, with a fake DispatchService: shared by the route tests. */
import { createLogger } from '@panda/platform';
import type { AcquireJobsRequest, Job, UpdateJobsRequest } from '@panda/proto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../http/app.js';
import type { DispatchClient, GatewayAppOptions } from '../http/app.js';

const logger = createLogger({ service: 'pilot-gateway-test', level: 'silent' });

/** A job as the server's DispatchService returns it. */
export const job = (over: Partial<Job> = {}): Job => ({
  pandaId: 42,
  taskId: 7,
  inputId: 3,
  workflowId: 1,
  label: 'isr',
  name: 'isr-3',
  command: 'echo hi',
  queue: 'SLAC_Rubin',
  state: 'sent',
  attemptNr: 1,
  maxAttempts: 3,
  memoryMb: 2000,
  cores: 1,
  priority: 0,
  walltimeS: 3600,
  exitCode: 0,
  errorCode: 0,
  errorDiag: '',
  workerId: 'w1',
  node: 'n1',
  commandToPilot: '',
  createdAt: new Date('2025-01-01T00:00:00Z'),
  stateChangedAt: undefined,
  startTime: undefined,
  endTime: undefined,
  errors: [],
  metrics: undefined,
  activatedAt: new Date('2025-01-01T00:00:00Z'),
  gateNodeId: 0,
  ...over,
});

/** What the fake DispatchService was asked, in order, with the abort signal of every call. */
export interface Calls {
  acquire: AcquireJobsRequest[];
  update: UpdateJobsRequest[];
  signals: (AbortSignal | undefined)[];
}

/** A fake DispatchService: no jobs and no results unless `behaviour` says otherwise. */
export function fakeDispatch(behaviour: {
  acquire?: (req: AcquireJobsRequest) => Promise<{ jobs: Job[] }>;
  update?: (req: UpdateJobsRequest) => Promise<{
    results: { pandaId: number; result: string; state: string; commandToPilot: string; message: string }[];
  }>;
}): { client: DispatchClient; calls: Calls } {
  const calls: Calls = { acquire: [], update: [], signals: [] };
  const client = {
    acquireJobs: async (req: AcquireJobsRequest, options?: { signal?: AbortSignal }) => {
      calls.acquire.push(req);
      calls.signals.push(options?.signal);
      return (behaviour.acquire ?? (async () => ({ jobs: [] })))(req);
    },
    updateJobs: async (req: UpdateJobsRequest, options?: { signal?: AbortSignal }) => {
      calls.update.push(req);
      calls.signals.push(options?.signal);
      return (behaviour.update ?? (async () => ({ results: [] })))(req);
    },
  } as unknown as DispatchClient;
  return { client, calls };
}

let app: FastifyInstance | undefined;

/** Builds the app under test on `dispatch`, with a silent logger; `closeApp` closes it. */
export function startApp(
  dispatch: DispatchClient,
  options: Omit<GatewayAppOptions, 'dispatch' | 'logger'> = {},
): FastifyInstance {
  app = buildApp({ dispatch, logger, ...options });
  return app;
}

/** Closes the app `startApp` built, if any (each test file runs it after each test). */
export async function closeApp(): Promise<void> {
  await app?.close();
  app = undefined;
}

/** The app `startApp` built. */
export function appUnderTest(): FastifyInstance {
  if (!app) throw new Error('startApp() first');
  return app;
}

/** POSTs `payload` as JSON to the app under test. */
export const post = (url: string, payload: unknown): Promise<LightMyRequestResponse> =>
  appUnderTest().inject({ method: 'POST', url, payload: payload as object });
