import type { z } from 'zod';

/** A zod issue as the flag the user typed: `endpointUrl` → `--endpoint-url …`. */
export function flagProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  const flag = String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return `--${flag} ${issue.message}`;
}
