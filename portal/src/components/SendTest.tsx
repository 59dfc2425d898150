import { useEffect, useState } from 'preact/hooks';
import type { Page } from '../api';
import type { Attempt, EventType, Message } from '../types';
import { STATUS_CLASS, STATUS_LABEL } from '../types';
import { Badge, ErrorMessage, Loading, Modal, prettyJson, useAction, useApi } from './ui';

/** Sends the example of an event type to this endpoint and shows the attempt as soon as it is recorded. */
export function SendTest({
  endpointId,
  eventTypes,
  open,
  onClose,
  onSent,
}: {
  endpointId: string;
  eventTypes: EventType[];
  open: boolean;
  onClose: () => void;
  onSent: () => void;
}) {
  const api = useApi();
  const [type, setType] = useState('');
  const [msg, setMsg] = useState<Message | null>(null);
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  // Reset on opening only: the parent re-renders (and rebuilds eventTypes) while a test is under way.
  useEffect(() => {
    if (open) {
      setMsg(null);
      setAttempt(null);
      setType((t) => (eventTypes.some((e) => e.name === t) ? t : eventTypes[0]?.name || ''));
    }
  }, [open]);
  const send = useAction(async () => {
    const m = await api.post<Message>(api.app(`endpoint/${endpointId}/send-example`), { eventType: type });
    setMsg(m);
    onSent();
  });
  useEffect(() => {
    if (!msg || (attempt && attempt.status !== 1 && attempt.status !== 3)) return;
    const t = setTimeout(async () => {
      try {
        const page = await api.get<Page<Attempt>>(api.app(`attempt/msg/${msg.id}`), {
          endpoint_id: endpointId,
          limit: 1,
        });
        setAttempt(page.data[0] ?? null);
        if (page.data[0]) onSent();
      } catch {
        /* the next poll tries again */
      }
    }, 800);
    return () => clearTimeout(t);
  }, [msg, attempt]);

  return (
    <Modal open={open} title="Send a test event" onClose={onClose}>
      {eventTypes.length === 0 ? (
        <p class="muted">There are no event types in the catalog yet, so there is no example to send.</p>
      ) : (
        <div class="field">
          <label for="test-type">Event type</label>
          <select
            id="test-type"
            value={type}
            onChange={(e) => setType((e.target as HTMLSelectElement).value)}
            disabled={!!msg}
          >
            {eventTypes.map((e) => (
              <option key={e.name}>{e.name}</option>
            ))}
          </select>
        </div>
      )}
      <ErrorMessage error={send.error} />
      {msg && (
        <div class="test-result" data-testid="test-result" aria-live="polite">
          <p>
            Sent message <code>{msg.id}</code>.
          </p>
          {!attempt || attempt.status === 1 || attempt.status === 3 ? (
            <Loading label="Waiting for your endpoint's answer…" />
          ) : (
            <>
              <p>
                <Badge kind={STATUS_CLASS[attempt.status]}>{STATUS_LABEL[attempt.status]}</Badge> HTTP{' '}
                {attempt.responseStatusCode || '—'} in {attempt.responseDurationMs} ms
              </p>
              <pre class="code-block">
                {attempt.response ? prettyJson(attempt.response) : '(empty response)'}
              </pre>
            </>
          )}
        </div>
      )}
      <div class="actions">
        <button type="button" class="btn" onClick={onClose}>
          Close
        </button>
        {!msg && (
          <button
            type="button"
            class="btn btn-primary"
            disabled={send.pending || !type}
            onClick={() => void send.run()}
          >
            Send example
          </button>
        )}
        {msg && (
          <button type="button" class="btn" onClick={() => (setMsg(null), setAttempt(null))}>
            Send another
          </button>
        )}
      </div>
    </Modal>
  );
}
