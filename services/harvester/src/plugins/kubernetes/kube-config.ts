import { KubeConfig } from '@kubernetes/client-node';

/** PANDA_KUBECONFIG's file, or the in-cluster service account when none is given. */
export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return kc;
}
