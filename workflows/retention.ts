import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { PruneResult, RetentionApp } from './definitions';

type Activities = ReturnType<typeof createActivities>;

const { pruneExpiredPayloads } = proxyActivities<Activities>({
  // Generous: a first pass over a large backlog may take a while; heartbeats show it alive.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});
const { listRetentionApps, deleteExpiredMessages } = proxyActivities<Activities>({
  // One short statement each.
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export interface RetentionTotals extends PruneResult {
  messages: number;
  deliveries: number;
  attempts: number;
  contents: number;
}

export interface PruneInput {
  /** Rows per statement (payloads, idempotency records, messages per batch). */
  batchSize?: number;
  /** Activity calls per run before continuing as new, which keeps the history short. */
  batchesPerRun?: number;
  /** Carried across continue-as-new: one cutoff for the whole pass. */
  now?: number;
  payloadsDone?: boolean;
  appCursor?: string | null;
  apps?: RetentionApp[];
  msgCursor?: string | null;
  totals?: RetentionTotals;
}

/**
 * Run by the `hookflow-retention` Temporal Schedule. Removes payloads past their own
 * expiry and expired idempotency records, then, application by application, deletes
 * messages older than the application's retention with their attempts, deliveries and
 * content: a few thousand per activity call, by keyset over message ids.
 */
export async function PruneExpiredPayloads(input: PruneInput = {}): Promise<RetentionTotals> {
  const batchSize = input.batchSize ?? 2000;
  const batchesPerRun = input.batchesPerRun ?? 200;
  const now = input.now ?? Date.now();
  const totals: RetentionTotals = input.totals ?? {
    payloads: 0,
    idempotencyRecords: 0,
    messages: 0,
    deliveries: 0,
    attempts: 0,
    contents: 0,
  };
  if (!input.payloadsDone) {
    const pruned = await pruneExpiredPayloads({ batchSize });
    totals.payloads += pruned.payloads;
    totals.idempotencyRecords += pruned.idempotencyRecords;
  }
  let appCursor = input.appCursor ?? null;
  let apps = input.apps ?? [];
  let msgCursor = input.msgCursor ?? null;
  for (let calls = 0; ; calls++) {
    if (calls >= batchesPerRun) {
      return continueAsNew<typeof PruneExpiredPayloads>({
        ...input,
        now,
        payloadsDone: true,
        appCursor,
        apps,
        msgCursor,
        totals,
      });
    }
    if (apps.length === 0) {
      apps = await listRetentionApps({ after: appCursor, limit: 100, now });
      if (apps.length === 0) return totals;
      appCursor = apps[apps.length - 1].id;
      continue;
    }
    const app = apps[0];
    const deleted = await deleteExpiredMessages({
      appId: app.id,
      cutoff: app.cutoff,
      after: msgCursor,
      batchSize,
    });
    totals.messages += deleted.messages;
    totals.deliveries += deleted.deliveries;
    totals.attempts += deleted.attempts;
    totals.contents += deleted.contents;
    msgCursor = deleted.next;
    if (!deleted.next) apps = apps.slice(1);
  }
}
