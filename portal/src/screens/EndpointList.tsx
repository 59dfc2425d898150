import { useState } from 'preact/hooks';
import type { Page } from '../api';
import type { Endpoint, EndpointStats } from '../types';
import {
  Badge,
  Empty,
  ErrorMessage,
  Link,
  Loading,
  Toggle,
  useAction,
  useApi,
  useResource,
} from '../components/ui';
import { StatusDots } from '../components/HealthChart';
import { lastAttemptOutcomes, messageSuccessRate, percent, rateClass } from '../health';

export function eventsOf(ep: Endpoint): string[] {
  return ep.eventTypes ?? ep.filterTypes ?? [];
}

/**
 * Recent health, one figure per thing counted: a dot per latest attempt, and the share of
 * finished messages that were delivered (a message retried into success counts as delivered).
 */
function Health({ stats }: { stats: EndpointStats | undefined }) {
  const rate = messageSuccessRate(stats);
  return (
    <div class="health-cell">
      <StatusDots statuses={lastAttemptOutcomes(stats)} />
      {rate !== null && (
        <span
          class={`rate ${rateClass(rate)}`}
          data-figure="message-success-rate"
          title="Messages delivered, of those that finished"
        >
          {percent(rate)} delivered
        </span>
      )}
    </div>
  );
}

function Row({ ep, stats, onChanged }: { ep: Endpoint; stats?: EndpointStats; onChanged: () => void }) {
  const api = useApi();
  const [disabled, setDisabled] = useState(!!ep.disabled);
  const toggle = useAction(async (enabled: boolean) => {
    await api.patch(api.app(`endpoint/${ep.id}`), { disabled: !enabled });
    setDisabled(!enabled);
    onChanged();
  });
  const events = eventsOf(ep);
  return (
    <tr>
      <td class="url-cell">
        <Link to={`/endpoints/${ep.id}`} class="endpoint-link">
          {ep.url}
        </Link>
        {ep.description && <div class="muted small">{ep.description}</div>}
        <ErrorMessage error={toggle.error} />
      </td>
      <td>{disabled ? <Badge kind="muted">Disabled</Badge> : <Badge kind="ok">Enabled</Badge>}</td>
      <td class="events-cell">
        {events.length ? (
          events.slice(0, 3).join(', ') + (events.length > 3 ? ` +${events.length - 3}` : '')
        ) : (
          <span class="muted">All events</span>
        )}
      </td>
      <td>
        <Health stats={stats} />
      </td>
      <td>
        <Toggle
          checked={!disabled}
          disabled={toggle.pending}
          label={`Enabled: ${ep.url}`}
          onChange={(v) => void toggle.run(v)}
        />
      </td>
    </tr>
  );
}

export function EndpointList() {
  const api = useApi();
  const list = useResource(async () => {
    const page = await api.get<Page<Endpoint>>(api.app('endpoint'), { limit: 100, order: 'descending' });
    // Health per endpoint; a failing stats call must not hide the list.
    const stats = await Promise.all(
      page.data.map((ep) =>
        api.get<EndpointStats>(api.app(`endpoint/${ep.id}/stats`)).catch(() => undefined),
      ),
    );
    return { endpoints: page.data, stats };
  }, [api]);

  return (
    <section aria-labelledby="endpoints-title">
      <div class="page-head">
        <h1 id="endpoints-title">Endpoints</h1>
        <Link to="/endpoints/new" class="btn btn-primary">
          Add endpoint
        </Link>
      </div>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.endpoints.length === 0 && (
        <Empty title="No endpoints yet">
          <p>Add an endpoint to start receiving webhooks: a URL on your server that accepts HTTP requests.</p>
          <Link to="/endpoints/new" class="btn btn-primary">
            Add your first endpoint
          </Link>
        </Empty>
      )}
      {list.data && list.data.endpoints.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Status</th>
                <th scope="col">Events</th>
                <th scope="col">Recent health</th>
                <th scope="col">
                  <span class="sr-only">Enabled</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.endpoints.map((ep, i) => (
                <Row key={ep.id} ep={ep} stats={list.data!.stats[i]} onChanged={() => void list.reload()} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
