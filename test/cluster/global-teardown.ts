import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __clusterStop?: () => Promise<void> }).__clusterStop?.().catch(() => undefined);
  if (process.env.HOOKFLOW_CLUSTER_TMP)
    rmSync(process.env.HOOKFLOW_CLUSTER_TMP, { recursive: true, force: true });
}
