import type { ErrorCodeInfo } from '@panda/proto';

/** The seven categories users see, in the monitor's order. */
export const ERROR_CATEGORIES = [
  'Uncategorized',
  'File/Storage',
  'Runtime and resource violations',
  'Network',
  'Termination and kill signals',
  'Software/environment',
  'Internal',
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Where an error pair comes from, as stored on a job. */
export const ERROR_SOURCES = [
  'pilot',
  'payload',
  'exe',
  'sup',
  'dispatcher',
  'taskbuffer',
  'brokerage',
] as const;
export type ErrorSource = (typeof ERROR_SOURCES)[number];

type Entry = [code: number, name: string, short: string, category: ErrorCategory, long: string];

const [UNCAT, FILE, RUNTIME, NET, KILL, SOFT, INTERNAL] = ERROR_CATEGORIES;

// Descriptions written for this project from the codes' documented meanings.
const PILOT: Entry[] = [
  [
    1008,
    'GENERALERROR',
    'General pilot error',
    INTERNAL,
    'The pilot failed for a reason it could not classify.',
  ],
  [
    1098,
    'NOLOCALSPACE',
    'Not enough local space',
    RUNTIME,
    'The worker node had too little disk for the job.',
  ],
  [1099, 'STAGEINFAILED', 'Stage-in failed', FILE, 'Input files could not be copied to the worker.'],
  [
    1110,
    'SETUPFAILURE',
    'Failed during payload setup',
    SOFT,
    'The job work area or environment could not be prepared.',
  ],
  [1137, 'STAGEOUTFAILED', 'Stage-out failed', FILE, 'Output files could not be copied to storage.'],
  [
    1144,
    'PANDAKILL',
    'Killed by the PanDA server',
    KILL,
    'The job was killed on request (task or job kill, workflow cancel).',
  ],
  [
    1150,
    'LOOPINGJOB',
    'Looping job killed by pilot',
    RUNTIME,
    'No file in the work directory changed for longer than the looping limit.',
  ],
  [1151, 'STAGEINTIMEOUT', 'Stage-in timed out', FILE, 'Copying inputs took longer than allowed.'],
  [1152, 'STAGEOUTTIMEOUT', 'Stage-out timed out', FILE, 'Copying outputs took longer than allowed.'],
  [
    1165,
    'MISSINGOUTPUTFILE',
    'Local output missing',
    FILE,
    'The payload finished but an expected output file is not there.',
  ],
  [1200, 'KILLSIGNAL', 'Unknown kill signal', KILL, 'The pilot received a signal it does not name.'],
  [
    1201,
    'SIGTERM',
    'Pilot received SIGTERM',
    KILL,
    'The batch system or harvester asked the pilot to stop (often preemption or a drained node).',
  ],
  [1202, 'SIGQUIT', 'Pilot received SIGQUIT', KILL, 'The pilot was asked to quit.'],
  [1203, 'SIGSEGV', 'Pilot received SIGSEGV', KILL, 'A segmentation fault ended the pilot.'],
  [1204, 'SIGXCPU', 'Pilot received SIGXCPU', KILL, 'The CPU time limit of the batch slot was reached.'],
  [1205, 'USERKILL', 'Killed by the user', KILL, 'The job was killed by its owner.'],
  [1206, 'SIGBUS', 'Pilot received SIGBUS', KILL, 'A bus error ended the pilot.'],
  [
    1207,
    'SIGUSR1',
    'Pilot received SIGUSR1',
    KILL,
    'The batch system sent SIGUSR1, usually before a time limit.',
  ],
  [1208, 'SIGINT', 'Pilot received SIGINT', KILL, 'The pilot was interrupted.'],
  [
    1212,
    'PAYLOADOUTOFMEMORY',
    'Payload ran out of memory',
    RUNTIME,
    'The kernel OOM killer ended the payload; it is retried with more memory.',
  ],
  [
    1213,
    'REACHEDMAXTIME',
    'Reached batch system time limit',
    RUNTIME,
    'The job ran past its walltime limit.',
  ],
  [
    1220,
    'UNKNOWNPAYLOADFAILURE',
    'Unknown payload failure',
    UNCAT,
    'The payload failed without a recognisable reason.',
  ],
  [
    1235,
    'PAYLOADEXCEEDMAXMEM',
    'Payload exceeded maximum allowed memory',
    RUNTIME,
    'The memory monitor saw the payload above its limit and killed it; it is retried with more memory.',
  ],
  [1236, 'FAILEDBYSERVER', 'Failed by server', INTERNAL, 'The server told the pilot to fail the job.'],
  [
    1305,
    'PAYLOADEXECUTIONFAILURE',
    'Failed to execute payload',
    SOFT,
    'The payload exited with a non-zero code; the diagnostic is its last error line.',
  ],
  [
    1310,
    'PAYLOADEXECUTIONEXCEPTION',
    'Exception during payload execution',
    SOFT,
    'Starting or watching the payload raised an exception.',
  ],
  [
    1317,
    'LOSTHEARTBEAT',
    'Exceeded max wait time (lost heartbeat)',
    NET,
    'The pilot could not reach the server for longer than the lost-heartbeat limit and gave up.',
  ],
  [1318, 'COMMUNICATIONFAILURE', 'Communication failure', NET, 'The pilot could not talk to the gateway.'],
  [1385, 'NOJOBS', 'No jobs in PanDA', UNCAT, 'The pilot found no job to run.'],
  [1386, 'QUEUENOTONLINE', 'Queue not online', UNCAT, 'The queue is not accepting work.'],
];

const DISPATCHER: Entry[] = [
  [
    100,
    'LOSTHEARTBEAT',
    'Lost heartbeat',
    NET,
    'The job sent no update for longer than the heartbeat timeout; its pilot or node probably died.',
  ],
  [
    101,
    'RECOVERYFAILED',
    'Recovery failed',
    INTERNAL,
    'Recovering the job after a pilot failure did not work.',
  ],
  [102, 'SENTTIMEOUT', 'Sent timeout', NET, 'A pilot took the job but never started it.'],
  [103, 'HOLDINGTIMEOUT', 'Holding timeout', INTERNAL, 'The job stayed in holding for longer than allowed.'],
  [104, 'TRANSFERRINGTIMEOUT', 'Transferring timeout', FILE, 'Output transfer did not finish in time.'],
  [105, 'OTHERTIMEOUT', 'Other timeout', INTERNAL, 'The job stayed in one state for longer than allowed.'],
];

const TASKBUFFER: Entry[] = [
  [100, 'KILLED', 'Killed', KILL, 'The job was killed.'],
  [102, 'EXPIRED', 'Expired', INTERNAL, 'The job waited too long and was closed.'],
  [103, 'ABORTED', 'Aborted', KILL, 'The job was aborted.'],
  [105, 'REBROKERED', 'Re-brokered', INTERNAL, 'The job was closed and generated again on another queue.'],
  [106, 'RETRIEDBYSERVER', 'Retried by server', INTERNAL, 'The retry module made a new attempt.'],
  [
    300,
    'WORKERDONE',
    'Worker done before job',
    RUNTIME,
    'The worker (pod, batch job or process) ended before the job reported; e.g. OOMKilled or cancelled.',
  ],
];

const SUPERVISOR: Entry[] = [
  [
    1212,
    'WORKEROOM',
    'Worker out of memory',
    RUNTIME,
    'The batch system or Kubernetes ended the worker for using too much memory (OOMKilled, OUT_OF_MEMORY).',
  ],
  [
    1213,
    'WORKERTIMELIMIT',
    'Worker time limit',
    RUNTIME,
    'The batch system ended the worker at its time limit.',
  ],
  [
    300,
    'WORKERLOST',
    'Worker lost',
    NET,
    'The worker disappeared (pod deleted, batch job cancelled or vanished).',
  ],
];

const BROKERAGE: Entry[] = [
  [
    200,
    'NOCANDIDATES',
    'No queue available',
    UNCAT,
    "No online queue fits the job's cores, memory and walltime.",
  ],
];

const build = (source: string, entries: Entry[]): ErrorCodeInfo[] =>
  entries.map(([code, name, shortDesc, category, longDesc]) => ({
    source,
    code,
    name,
    shortDesc,
    longDesc,
    category,
  }));

export const ERROR_CATALOGUE: readonly ErrorCodeInfo[] = [
  ...build('pilot', PILOT),
  ...build('dispatcher', DISPATCHER),
  ...build('taskbuffer', TASKBUFFER),
  ...build('sup', SUPERVISOR),
  ...build('brokerage', BROKERAGE),
];

const index = new Map(ERROR_CATALOGUE.map((e) => [`${e.source}:${e.code}`, e]));

/** The catalogue entry of a code; payload exit codes are the payload's own and not catalogued. */
export function describeError(source: string, code: number): ErrorCodeInfo | undefined {
  return index.get(`${source}:${code}`);
}
