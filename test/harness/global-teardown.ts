import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __hookflowStops?: Array<() => Promise<void>> }).__hookflowStops ?? [];
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  if (process.env.HOOKFLOW_TEST_TMP) rmSync(process.env.HOOKFLOW_TEST_TMP, { recursive: true, force: true });
}
