import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import type { BackgroundTask } from '../types';
import { ErrorMessage, useApi } from './ui';

const LABEL: Record<string, string> = { running: 'Running', finished: 'Finished', failed: 'Failed' };

function numbers(data: Record<string, unknown> | null | undefined): Array<[string, number]> {
  return Object.entries(data ?? {}).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && e[0] !== 'pages',
  );
}

function humanize(key: string): string {
  return key.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
}

/** Follows a background task (recover, replay-missing) until it finishes. */
export function TaskProgress({ task: initial, onDone }: { task: BackgroundTask; onDone?: () => void }) {
  const api = useApi();
  const [task, setTask] = useState(initial);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (task.status !== 'running') {
      onDone?.();
      return;
    }
    const t = setTimeout(async () => {
      try {
        setTask(await api.get<BackgroundTask>(`/api/v1/background-task/${encodeURIComponent(task.id)}`));
      } catch (err) {
        setError(err as ApiError);
      }
    }, 1000);
    return () => clearTimeout(t);
  }, [task]);
  const data = task.data ?? {};
  const total = Number((data as Record<string, unknown>).total ?? NaN);
  const done = Number(
    (data as Record<string, unknown>).matched ?? (data as Record<string, unknown>).processed ?? NaN,
  );
  const known = Number.isFinite(total) && total > 0 && Number.isFinite(done);
  return (
    <div class="task" role="status" aria-live="polite" data-testid="task-progress" data-status={task.status}>
      <div class="task-head">
        <span
          class={`badge badge-${task.status === 'finished' ? 'ok' : task.status === 'failed' ? 'fail' : 'pending'}`}
        >
          {LABEL[task.status] ?? task.status}
        </span>
        <span class="muted small">{task.id}</span>
      </div>
      <progress
        max={known ? total : undefined}
        value={known ? done : task.status === 'running' ? undefined : 1}
        aria-label="Progress"
      />
      {numbers(data).length > 0 && (
        <dl class="task-data">
          {numbers(data).map(([k, v]) => (
            <div key={k}>
              <dt>{humanize(k)}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
