export {
  freePort,
  freePorts,
  isHttpOk,
  isPortOpen,
  sleep,
  pollFor,
  waitFor,
  waitForHttp,
  waitForPort,
} from './ports.js';
export type { WaitOptions } from './ports.js';
export {
  commandLine,
  describeLog,
  findProcessesWithEnv,
  isAlive,
  spawnLogged,
  stopProcessGroup,
  tailFile,
  waitForExit,
} from './proc.js';
export type { SpawnLoggedOptions } from './proc.js';
export { createDatabase, postgresBinDir, startPostgres } from './postgres.js';
export type { PostgresHandle, StartPostgresOptions } from './postgres.js';
export { startNats } from './nats.js';
export type { NatsHandle, StartNatsOptions } from './nats.js';
export { startStack } from './stack.js';
export type { Stack, StartStackOptions } from './stack.js';
export { stopStackFromFile } from './stack-down.js';
export type { StopStackOptions } from './stack-down.js';
export {
  isStackRunning,
  readStackInfo,
  repoRootDir,
  serviceMain,
  SERVICES,
  STACK_FILE,
  STACK_MARKER_ENV,
} from './stack-file.js';
export type { ServiceName, ServiceRecord, StackAddresses, StackInfo } from './stack-file.js';
export {
  formatProgress,
  isTerminalState,
  normalizeState,
  runPanda,
  submitWorkflow,
  TERMINAL_STATES,
  waitForWorkflow,
  workflowStatus,
  writeWorkflowFile,
} from './workflow.js';
export type { CliResult, PandaCli, TestJob, WaitForWorkflowOptions, WorkflowStatus } from './workflow.js';
export { slurmAvailable, slurmConf, startSlurm } from './slurm.js';
export type { SlurmHandle, StartSlurmOptions } from './slurm.js';
export { limitedChild, makeTestCgroup, oomKillsOf, removeCgroupTree } from './cgroup.js';
export type { TestCgroup } from './cgroup.js';
