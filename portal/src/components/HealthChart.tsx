import type { Attempt } from '../types';
import { STATUS_LABEL } from '../types';

/**
 * Recent attempts as bars, oldest on the left: height is the response time, colour the
 * outcome. Inline SVG: no chart library for thirty rectangles.
 */
export function HealthChart({ attempts, height = 64 }: { attempts: Attempt[]; height?: number }) {
  const recent = attempts.slice(0, 30).reverse();
  if (!recent.length) return <p class="muted">No attempts yet.</p>;
  const max = Math.max(1, ...recent.map((a) => a.responseDurationMs || 0));
  const bar = 10;
  const gap = 4;
  const width = recent.length * (bar + gap);
  const ok = recent.filter((a) => a.status === 0).length;
  return (
    <svg
      class="chart"
      role="img"
      aria-label={`Last ${recent.length} attempts: ${ok} succeeded, ${recent.length - ok} did not`}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
    >
      {recent.map((a, i) => {
        const h = Math.max(4, Math.round(((a.responseDurationMs || 0) / max) * (height - 4)));
        return (
          <rect
            key={a.id}
            class={`bar bar-${a.status}`}
            x={i * (bar + gap)}
            y={height - h}
            width={bar}
            height={h}
            rx={2}
          >
            <title>{`${STATUS_LABEL[a.status] ?? a.status} · HTTP ${a.responseStatusCode || '—'} · ${a.responseDurationMs} ms · ${new Date(a.timestamp).toLocaleString()}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}

/** A dot per latest attempt (retries included), newest first, for the endpoints list. */
export function StatusDots({ statuses }: { statuses: number[] }) {
  if (!statuses.length) return <span class="muted">No attempts yet</span>;
  const shown = statuses.slice(0, 10);
  const ok = shown.filter((s) => s === 0).length;
  const label = `Last ${shown.length} attempts: ${ok} succeeded`;
  return (
    <span class="dots" role="img" aria-label={label} title={label}>
      {shown.map((s, i) => (
        <span key={i} class={`dot dot-${s}`} />
      ))}
    </span>
  );
}
