import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction } from 'express';
import { HttpError } from '../http-errors';

/** Buckets untouched this long are full again anyway: dropped so memory stays bounded. */
const IDLE_MS = 60_000;
/** Past this many live buckets, idle ones are swept on the next request. */
const SWEEP_AT = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-token rate limit (HOOKFLOW_API_RATE_LIMIT requests per second; 0 = off): a token
 * bucket in memory, holding one second's worth of burst. It runs after authentication, so
 * only valid tokens get a bucket, and buckets are keyed by a hash of the token: the token
 * itself is never kept. Each API process limits on its own; behind N replicas a token
 * gets up to N times the rate, which is what an in-memory limiter can promise.
 */
export function rateLimit(perSecond: number, now: () => number = Date.now) {
  const buckets = new Map<string, Bucket>();
  return (req: IncomingMessage, _res: unknown, next: NextFunction) => {
    if (!perSecond) return next();
    const token = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const key = createHash('sha256').update(token).digest('base64url');
    const t = now();
    if (buckets.size > SWEEP_AT) for (const [k, b] of buckets) if (t - b.at > IDLE_MS) buckets.delete(k);
    const bucket = buckets.get(key) ?? { tokens: perSecond, at: t };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return next();
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    throw new HttpError(
      429,
      'rate_limited',
      `Too many requests for this token: the limit is ${perSecond} per second; retry after ${retryAfter} s`,
      { 'retry-after': String(retryAfter) },
    );
  };
}
