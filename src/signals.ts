/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits (1 if it failed).
 *
 * `whenOrphaned`: also when the process that started this one goes away. `npx` does not
 * pass a SIGTERM on to the command it runs, so `npx hookflow listen &` then `kill %1`
 * (outside an interactive shell, where the whole job would get it) ends npx only.
 */
export function onSignals(stop: () => Promise<void>, opts: { whenOrphaned?: boolean } = {}): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  const parent = process.ppid;
  // Started by init already (a container's PID 1): there is no parent to outlive.
  if (opts.whenOrphaned && parent !== 1) {
    setInterval(() => process.ppid !== parent && handler(), 500).unref();
  }
}
