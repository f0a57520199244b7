import type { Logger } from '@panda/platform';
import type { HarvesterConfig } from '../config.js';
import { KubernetesSubmitter } from './kubernetes/kubernetes.js';
import { loadPodTemplate } from './kubernetes/pod-template.js';
import { LocalSubmitter } from './local.js';
import { SlurmSubmitter } from './slurm/slurm.js';
import type { SubmitterPlugin } from './types.js';

export interface Plugins {
  all: SubmitterPlugin[];
  /** Present when `local` is enabled: its pilots are stopped at shutdown. */
  local?: LocalSubmitter;
}

/** The plugins named in PANDA_SUBMITTERS. */
export function createPlugins(
  config: HarvesterConfig,
  baseEnv: NodeJS.ProcessEnv,
  logger: Logger,
  onPilotExit: () => void,
): Plugins {
  const common = {
    command: config.pilotCommand,
    workDir: config.workDir,
    gatewayUrl: config.gatewayUrl,
    heartbeatS: config.pilotHeartbeatS,
    baseEnv,
    logger,
  };
  const plugins: Plugins = { all: [] };
  for (const name of new Set(config.submitters)) {
    switch (name) {
      case 'local':
        plugins.local = new LocalSubmitter({ ...common, onExit: onPilotExit });
        plugins.all.push(plugins.local);
        break;
      case 'slurm':
        plugins.all.push(new SlurmSubmitter(common));
        break;
      case 'kubernetes':
        plugins.all.push(
          new KubernetesSubmitter({
            ...common,
            kubeconfig: config.kubeconfig,
            namespace: config.kubeNamespace,
            podTemplate: config.k8sPodTemplateFile ? loadPodTemplate(config.k8sPodTemplateFile) : undefined,
          }),
        );
        break;
    }
  }
  return plugins;
}
