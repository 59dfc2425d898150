import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The time the Stuck query of docs/operations.md is written with ("10 minutes ago"). */
export const TEN_MINUTES_AGO = '2026-01-01T11:50:00Z';

/**
 * The Web UI queries of docs/operations.md ("Finding and acting on deliveries in Temporal"),
 * read from the document itself, so the tests run what operators are told to type.
 */
export function documentedQueries(): Record<string, string> {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  const out: Record<string, string> = {};
  const re =
    /^# (Stuck|Failing|Failed|Delivered after retries|Delivered, at once or after retries)\b.*\n.*--query "(.*)"$/gm;
  for (const m of doc.matchAll(re)) out[m[1]] = m[2];
  return out;
}
