import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Page } from '../api';
import type { Attempt, EventType } from '../types';
import { STATUS_CLASS, STATUS_LABEL } from '../types';
import { Badge, Empty, ErrorMessage, Loading, formatTime, prettyJson, useApi, useResource } from './ui';
import type { ReplayRequest } from './ReplayDialog';

export interface AttemptFilters {
  status: string;
  eventType: string;
  after: string;
  before: string;
}

const NO_FILTERS: AttemptFilters = { status: '', eventType: '', after: '', before: '' };

function iso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function Details({ attempt, hasTemplate }: { attempt: Attempt; hasTemplate: boolean }) {
  const api = useApi();
  // The exact text sent, JSON or not (a raw payload may be XML or plain text).
  const msg = useResource(
    () => api.get<{ payload: string }>(api.app(`msg/${attempt.msgId}/raw`)),
    [attempt.msgId],
  );
  return (
    <div class="attempt-details">
      <div>
        <h3>Request</h3>
        <p class="muted small">
          {attempt.url} · message <code>{attempt.msgId}</code>
          {hasTemplate && ' · the event payload (this endpoint reshapes it with its payload template)'}
        </p>
        <ErrorMessage error={msg.error} />
        {msg.data ? <pre class="code-block">{prettyJson(msg.data.payload)}</pre> : !msg.error && <Loading />}
      </div>
      <div>
        <h3>Response</h3>
        <p class="muted small">
          {attempt.errorKind === 'configuration'
            ? 'Not sent: a configuration error on the sending side, not a fault of this endpoint'
            : `HTTP ${attempt.responseStatusCode || '—'} in ${attempt.responseDurationMs} ms`}
          {attempt.errorKind &&
            attempt.errorKind !== 'configuration' &&
            ` · ${errorLabel(attempt.errorKind)}`}
          {attempt.responseTruncated && ' · response cut at the stored size'}
        </p>
        <pre class="code-block" data-testid="response-body">
          {attempt.response ? prettyJson(attempt.response) : '(empty)'}
        </pre>
      </div>
    </div>
  );
}

function ReplayMenu({ attempt, onReplay }: { attempt: Attempt; onReplay: (r: ReplayRequest) => void }) {
  const since = new Date(new Date(attempt.timestamp).getTime() - 1000);
  const choose = (r: ReplayRequest) => (e: Event) => {
    (e.currentTarget as HTMLElement).closest('details')?.removeAttribute('open');
    onReplay(r);
  };
  return (
    <details class="menu">
      <summary class="btn btn-small" aria-label={`Replay options for ${attempt.msgId}`}>
        Replay ▾
      </summary>
      <div class="menu-items" role="menu">
        <button
          type="button"
          role="menuitem"
          onClick={choose({ kind: 'resend', msgId: attempt.msgId, since })}
        >
          Resend this message
        </button>
        <button type="button" role="menuitem" onClick={choose({ kind: 'recover', since })}>
          Recover failed messages since…
        </button>
        <button type="button" role="menuitem" onClick={choose({ kind: 'replay-missing', since })}>
          Replay missing messages since…
        </button>
      </div>
    </details>
  );
}

/** The message attempts of one endpoint, newest first, with filters; refreshes itself while open. */
export function Attempts(props: {
  endpointId: string;
  eventTypes: EventType[];
  refreshKey: number;
  hasTemplate: boolean;
  onReplay: (r: ReplayRequest) => void;
}) {
  const api = useApi();
  const [filters, setFilters] = useState<AttemptFilters>(NO_FILTERS);
  const [open, setOpen] = useState<string | null>(null);
  const [more, setMore] = useState<Attempt[]>([]);
  const [iterator, setIterator] = useState<string | null>(null);
  const query = {
    limit: 25,
    with_msg: true,
    status: filters.status || undefined,
    event_types: filters.eventType || undefined,
    after: iso(filters.after),
    before: iso(filters.before),
  };
  const list = useResource(async () => {
    const page = await api.get<Page<Attempt>>(api.app(`attempt/endpoint/${props.endpointId}`), query);
    return page;
  }, [api, props.endpointId, props.refreshKey, JSON.stringify(filters)]);

  useEffect(() => {
    setMore([]);
    setIterator(list.data && !list.data.done ? list.data.iterator : null);
  }, [list.data]);

  // Deliveries land in the background: poll while the tab is visible.
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'visible' && more.length === 0) void list.reload();
    }, 3000);
    return () => clearInterval(t);
  }, [list.reload, more.length]);

  const loadMore = async () => {
    if (!iterator) return;
    const page = await api.get<Page<Attempt>>(api.app(`attempt/endpoint/${props.endpointId}`), {
      ...query,
      iterator,
    });
    setMore([...more, ...page.data]);
    setIterator(page.done ? null : page.iterator);
  };

  const set = (k: keyof AttemptFilters) => (e: Event) =>
    setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value });
  const rows = [...(list.data?.data ?? []), ...more];
  const filtered = Object.values(filters).some(Boolean);

  return (
    <section class="card" aria-labelledby="attempts-title">
      <div class="card-head">
        <h2 id="attempts-title">Message attempts</h2>
        <button type="button" class="btn btn-small" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter attempts">
        <label>
          Status
          <select value={filters.status} onChange={set('status')} name="status">
            <option value="">All</option>
            <option value="0">Succeeded</option>
            <option value="2">Failed</option>
            <option value="1">Pending</option>
            <option value="3">Sending</option>
          </select>
        </label>
        <label>
          Event type
          <select value={filters.eventType} onChange={set('eventType')} name="eventType">
            <option value="">All</option>
            {props.eventTypes.map((e) => (
              <option key={e.name}>{e.name}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={filters.after} onInput={set('after')} name="after" />
        </label>
        <label>
          To
          <input type="datetime-local" value={filters.before} onInput={set('before')} name="before" />
        </label>
        {filtered && (
          <button type="button" class="btn btn-small" onClick={() => setFilters(NO_FILTERS)}>
            Clear filters
          </button>
        )}
      </form>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && rows.length === 0 && (
        <Empty
          title={filtered ? 'No attempts match these filters.' : 'No messages sent to this endpoint yet.'}
        >
          {!filtered && <p>Send a test event to see how your endpoint answers.</p>}
        </Empty>
      )}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="table attempts" data-testid="attempts">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Event type</th>
                <th scope="col">Code</th>
                <th scope="col">Duration</th>
                <th scope="col">Time</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <Fragment key={a.id}>
                  <tr
                    class={`attempt-row status-${STATUS_CLASS[a.status]}`}
                    data-status={a.status}
                    data-msg={a.msgId}
                  >
                    <td>
                      <Badge kind={STATUS_CLASS[a.status] ?? 'muted'}>
                        {STATUS_LABEL[a.status] ?? a.status}
                      </Badge>
                      {a.triggerType === 1 && <span class="muted small"> manual</span>}
                    </td>
                    <td>
                      <code>{a.msg?.eventType ?? a.msgId}</code>
                    </td>
                    <td>
                      {a.responseStatusCode ||
                        (a.errorKind ? <span class="muted small">{errorLabel(a.errorKind)}</span> : '—')}
                    </td>
                    <td>{a.responseDurationMs} ms</td>
                    <td>{formatTime(a.timestamp)}</td>
                    <td class="row-actions">
                      <button
                        type="button"
                        class="btn btn-small"
                        aria-expanded={open === a.id}
                        onClick={() => setOpen(open === a.id ? null : a.id)}
                      >
                        {open === a.id ? 'Hide' : 'Details'}
                      </button>
                      <ReplayMenu attempt={a} onReplay={props.onReplay} />
                    </td>
                  </tr>
                  {open === a.id && (
                    <tr class="details-row">
                      <td colSpan={6}>
                        <Details attempt={a} hasTemplate={props.hasTemplate} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {iterator && (
        <button type="button" class="btn" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
    </section>
  );
}

/** A short name for why an attempt got no HTTP answer. */
function errorLabel(kind: string): string {
  const labels: Record<string, string> = {
    configuration: 'configuration error',
    timeout: 'timed out',
    blocked: 'address blocked',
    ECONNREFUSED: 'connection refused',
  };
  return labels[kind] ?? kind;
}
