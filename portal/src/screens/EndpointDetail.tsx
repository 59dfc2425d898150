import { useState } from 'preact/hooks';
import type { Page } from '../api';
import type { Attempt, Endpoint, EndpointStats, EventType } from '../types';
import {
  Badge,
  Confirm,
  ErrorMessage,
  Link,
  Loading,
  Toggle,
  useAction,
  useApi,
  useResource,
} from '../components/ui';
import { HealthChart } from '../components/HealthChart';
import { SecretPanel } from '../components/SecretPanel';
import { SendTest } from '../components/SendTest';
import { Attempts } from '../components/Attempts';
import { ReplayDialog, type ReplayRequest } from '../components/ReplayDialog';
import { navigate } from '../router';
import { eventsOf } from './EndpointList';
import { attemptSuccessRate, messageSuccessRate, percent } from '../health';

function ms(v: number | null | undefined): string {
  return typeof v === 'number' ? `${Math.round(v)} ms` : '—';
}

/** One labelled figure; `figure` names it for tests and styles. */
function Figure({ figure, label, value }: { figure: string; label: string; value: string | number }) {
  return (
    <div data-figure={figure}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/**
 * Health in two groups that never mix: messages (one per message sent to the endpoint, by
 * how its delivery ended) and attempts (every request, retries included). A message that
 * succeeded at its third try is one delivered message and three attempts.
 */
function Health({ endpointId, refreshKey }: { endpointId: string; refreshKey: number }) {
  const api = useApi();
  const health = useResource(async () => {
    const [stats, recent] = await Promise.all([
      api.get<EndpointStats>(api.app(`endpoint/${endpointId}/stats`)),
      api.get<Page<Attempt>>(api.app(`attempt/endpoint/${endpointId}`), { limit: 30 }),
    ]);
    return { stats, recent: recent.data };
  }, [api, endpointId, refreshKey]);
  const s = health.data?.stats;
  return (
    <section class="card" aria-labelledby="health-title">
      <h2 id="health-title">Health</h2>
      <ErrorMessage error={health.error} />
      {!health.data && !health.error && <Loading />}
      {health.data && (
        <>
          <h3 class="small muted">Messages (each counted once, however many attempts it took)</h3>
          <dl class="stats" data-testid="message-health">
            <Figure
              figure="message-success-rate"
              label="Message success rate"
              value={percent(messageSuccessRate(s))}
            />
            <Figure figure="messages-delivered" label="Delivered" value={s?.success ?? 0} />
            <Figure figure="messages-failed" label="Failed" value={(s?.fail ?? 0) + (s?.canceled ?? 0)} />
            <Figure figure="messages-pending" label="Pending" value={(s?.pending ?? 0) + (s?.sending ?? 0)} />
          </dl>
          <h3 class="small muted">Attempts (every request, retries included)</h3>
          <dl class="stats" data-testid="attempt-health">
            <Figure
              figure="attempt-success-rate"
              label="Attempt success rate"
              value={percent(attemptSuccessRate(s))}
            />
            <Figure figure="attempt-average-response" label="Average response" value={ms(s?.avgResponseMs)} />
            <Figure figure="attempt-p95-response" label="p95 response" value={ms(s?.p95ResponseMs)} />
          </dl>
          <h3 class="small muted">Recent attempts (response time, coloured by outcome)</h3>
          <HealthChart attempts={health.data.recent} />
        </>
      )}
    </section>
  );
}

export function EndpointDetail({ id }: { id: string }) {
  const api = useApi();
  const [refreshKey, setRefreshKey] = useState(0);
  const bump = () => setRefreshKey((k) => k + 1);
  const ep = useResource(async () => {
    const [endpoint, types] = await Promise.all([
      api.get<Endpoint>(api.app(`endpoint/${id}`)),
      api
        .get<Page<EventType>>('/api/v1/event-type', { limit: 250, with_content: true })
        .catch(() => ({ data: [] as EventType[] }) as Page<EventType>),
    ]);
    return { endpoint, types: types.data.filter((t) => !t.archived) };
  }, [api, id]);
  const [testing, setTesting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [replay, setReplay] = useState<ReplayRequest | null>(null);
  const toggle = useAction(async (enabled: boolean) => {
    await api.patch(api.app(`endpoint/${id}`), { disabled: !enabled });
    await ep.reload();
  });
  const remove = useAction(async () => {
    await api.delete(api.app(`endpoint/${id}`));
    navigate('/');
  });

  if (ep.error) {
    return (
      <>
        <ErrorMessage error={ep.error} />
        <Link to="/">Back to endpoints</Link>
      </>
    );
  }
  if (!ep.data) return <Loading />;
  const e = ep.data.endpoint;
  const subscribed = eventsOf(e);
  const testTypes = subscribed.length
    ? ep.data.types.filter((t) => subscribed.includes(t.name))
    : ep.data.types;

  return (
    <section aria-labelledby="ep-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link to="/">Endpoints</Link> <span aria-hidden="true">/</span>
      </nav>
      <div class="page-head">
        <div class="title-block">
          <h1 id="ep-title" class="url-title">
            {e.url}
          </h1>
          {e.description && <p class="muted">{e.description}</p>}
          <p class="meta">
            {e.disabled ? <Badge kind="muted">Disabled</Badge> : <Badge kind="ok">Enabled</Badge>}{' '}
            <Badge kind="muted">{e.method ?? 'POST'}</Badge>{' '}
            <span class="muted small">{subscribed.length ? subscribed.join(', ') : 'All events'}</span>
            {e.channels?.length ? (
              <span class="muted small"> · channels: {e.channels.join(', ')}</span>
            ) : null}
          </p>
        </div>
        <div class="head-actions">
          <label class="toggle-label">
            <Toggle
              checked={!e.disabled}
              disabled={toggle.pending}
              label="Endpoint enabled"
              onChange={(v) => void toggle.run(v)}
            />
            {e.disabled ? 'Disabled' : 'Enabled'}
          </label>
          <button type="button" class="btn btn-primary" onClick={() => setTesting(true)}>
            Send test event
          </button>
          <Link to={`/endpoints/${id}/edit`} class="btn">
            Edit
          </Link>
          <button
            type="button"
            class="btn"
            onClick={() => setReplay({ kind: 'recover', since: new Date(Date.now() - 24 * 3600_000) })}
          >
            Recover failed…
          </button>
          <button
            type="button"
            class="btn"
            onClick={() => setReplay({ kind: 'replay-missing', since: new Date(Date.now() - 24 * 3600_000) })}
          >
            Replay missing…
          </button>
          <button type="button" class="btn btn-danger" onClick={() => setDeleting(true)}>
            Delete
          </button>
        </div>
      </div>
      <ErrorMessage error={toggle.error} />
      <div class="grid-detail">
        <Health endpointId={id} refreshKey={refreshKey} />
        <SecretPanel endpointId={id} />
      </div>
      <Attempts
        endpointId={id}
        eventTypes={ep.data.types}
        refreshKey={refreshKey}
        hasTemplate={!!e.payloadTemplate}
        onReplay={setReplay}
      />
      <SendTest
        endpointId={id}
        eventTypes={testTypes}
        open={testing}
        onClose={() => setTesting(false)}
        onSent={bump}
      />
      <ReplayDialog endpointId={id} request={replay} onClose={() => setReplay(null)} onStarted={bump} />
      <Confirm
        open={deleting}
        title="Delete this endpoint?"
        message={
          <>
            <strong>{e.url}</strong> will stop receiving webhooks and its pending retries are cancelled. This
            cannot be undone.
          </>
        }
        confirmLabel="Delete endpoint"
        danger
        pending={remove.pending}
        error={remove.error}
        onConfirm={() => void remove.run()}
        onClose={() => setDeleting(false)}
      />
    </section>
  );
}
