import { useState } from 'preact/hooks';
import type { BackgroundTask } from '../types';
import { ErrorMessage, Modal, useAction, useApi } from './ui';
import { TaskProgress } from './TaskProgress';

export type ReplayKind = 'resend' | 'recover' | 'replay-missing';

export interface ReplayRequest {
  kind: ReplayKind;
  msgId?: string;
  since: Date;
}

const TITLES: Record<ReplayKind, string> = {
  resend: 'Resend this message',
  recover: 'Recover failed messages',
  'replay-missing': 'Replay missing messages',
};

const EXPLAIN: Record<ReplayKind, string> = {
  resend: 'The message is sent to this endpoint again, now.',
  recover: 'Every message to this endpoint that failed since the chosen time is sent again.',
  'replay-missing':
    'Every message since the chosen time that this endpoint should have received but never did (it was added later, or its filters changed) is sent.',
};

/** A datetime-local value in the browser's time zone. */
function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function ReplayDialog({
  endpointId,
  request,
  onClose,
  onStarted,
}: {
  endpointId: string;
  request: ReplayRequest | null;
  onClose: () => void;
  onStarted: () => void;
}) {
  const api = useApi();
  const [since, setSince] = useState('');
  const [task, setTask] = useState<BackgroundTask | null>(null);
  const [resent, setResent] = useState(false);
  const [key, setKey] = useState<ReplayRequest | null>(null);
  if (request !== key) {
    // A new request: reset the dialog to it.
    setKey(request);
    setSince(request ? localInput(request.since) : '');
    setTask(null);
    setResent(false);
  }
  const start = useAction(async () => {
    if (!request) return;
    if (request.kind === 'resend') {
      await api.post(api.app(`msg/${request.msgId}/endpoint/${endpointId}/resend`), {});
      setResent(true);
      onStarted();
      return;
    }
    const when = new Date(since);
    if (Number.isNaN(when.getTime())) throw new Error('Choose a date and time.');
    setTask(
      await api.post<BackgroundTask>(api.app(`endpoint/${endpointId}/${request.kind}`), {
        since: when.toISOString(),
      }),
    );
    onStarted();
  });
  const kind = request?.kind ?? 'resend';
  return (
    <Modal open={!!request} title={TITLES[kind]} onClose={onClose}>
      <p>{EXPLAIN[kind]}</p>
      {kind !== 'resend' && !task && (
        <div class="field">
          <label for="replay-since">Since</label>
          <input
            id="replay-since"
            type="datetime-local"
            value={since}
            onInput={(e) => setSince((e.target as HTMLInputElement).value)}
          />
        </div>
      )}
      {task && <TaskProgress task={task} onDone={onStarted} />}
      {resent && (
        <p class="alert alert-ok" role="status">
          Resent. The new attempt appears in the log.
        </p>
      )}
      <ErrorMessage error={start.error} />
      <div class="actions">
        <button type="button" class="btn" onClick={onClose}>
          {task || resent ? 'Close' : 'Cancel'}
        </button>
        {!task && !resent && (
          <button
            type="button"
            class="btn btn-primary"
            disabled={start.pending}
            onClick={() => void start.run()}
          >
            {kind === 'resend' ? 'Resend' : kind === 'recover' ? 'Recover' : 'Replay'}
          </button>
        )}
      </div>
    </Modal>
  );
}
