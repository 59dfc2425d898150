import { z } from 'zod';
import type { BackgroundTask } from '../src/db/entities';

/**
 * Background tasks as Svix's SDKs read them. Their BackgroundTaskType and
 * BackgroundTaskStatus are closed enums: the Go SDK fails to decode a whole list that holds
 * one unknown value. So:
 * - the list shows Svix's kinds only (`endpoint.recover`, `endpoint.replay` for
 *   replay-missing) unless a filter of Hookflow's asks for its own kinds: `task=` one of
 *   them, or `status=cancelled`;
 * - a task of Svix's kinds that was cancelled (Hookflow's cancel route, or Web UI) reads as
 *   `failed` with `data.cancelled: true`, as cancelled deliveries read as failed;
 * - replays carry `data.messagesSent`, the count Svix's recover and replay-missing finish
 *   with (Hookflow's `started`), beside Hookflow's own progress counts.
 * Hookflow's kinds keep their own names and the `cancelled` status.
 */
export const svixTaskKinds = ['endpoint.recover', 'endpoint.replay'] as const;
export const hookflowTaskKinds = ['application.replay', 'endpoint.delete', 'application.delete'] as const;
export const taskKinds = [...svixTaskKinds, ...hookflowTaskKinds] as const;
export const taskStatuses = ['running', 'finished', 'failed', 'cancelled'] as const;

const isSvixKind = (task: string) => (svixTaskKinds as readonly string[]).includes(task);
const isReplay = (task: string) => task.endsWith('.recover') || task.endsWith('.replay');

/** Svix's BackgroundTaskOut (RecoverOut/ReplayOut are the same without `data`). */
export const backgroundTaskOut = z.object({
  id: z.string(),
  status: z.enum(taskStatuses).describe('`cancelled` only for Hookflow’s own task kinds'),
  task: z.enum(taskKinds),
  updatedAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});

export interface TaskRow {
  id: string;
  app_id: string | null;
  task: string;
  status: BackgroundTask['status'];
  data: Record<string, unknown>;
  workflow_id: string | null;
  updated_at: string | Date;
}

export function taskOut(r: TaskRow) {
  const data: Record<string, unknown> = { ...(r.data ?? {}) };
  if (isReplay(r.task)) data.messagesSent = typeof data.started === 'number' ? data.started : 0;
  let status = r.status;
  if (status === 'cancelled' && isSvixKind(r.task)) {
    status = 'failed';
    data.cancelled = true;
  }
  return { id: r.id, status, task: r.task, updatedAt: new Date(r.updated_at).toISOString(), data };
}

/** The list's kind and status filters as SQL over `background_tasks`, per the rules above. */
export function taskFilter(q: { task?: string; status?: string }): { sql: string[]; args: unknown[] } {
  const sql: string[] = [];
  const args: unknown[] = [];
  const kinds = q.task ? [q.task] : q.status === 'cancelled' ? hookflowTaskKinds : svixTaskKinds;
  sql.push(`task in (${kinds.map(() => '?').join(', ')})`);
  args.push(...kinds);
  const svixKinds = svixTaskKinds.map(() => '?').join(', ');
  if (q.status === 'failed') {
    sql.push(`(status = 'failed' or (status = 'cancelled' and task in (${svixKinds})))`);
    args.push(...svixTaskKinds);
  } else if (q.status === 'cancelled') {
    sql.push(`status = 'cancelled' and task not in (${svixKinds})`);
    args.push(...svixTaskKinds);
  } else if (q.status) {
    sql.push('status = ?');
    args.push(q.status);
  }
  return { sql, args };
}
