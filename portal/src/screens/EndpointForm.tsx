import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Page } from '../api';
import type { Endpoint, EventType, Method } from '../types';
import { ErrorMessage, Link, Loading, useAction, useApi, useResource } from '../components/ui';
import { TemplateEditor, validate, exampleOf } from '../components/TemplateEditor';
import { navigate } from '../router';
import { eventsOf } from './EndpointList';

const METHODS: Method[] = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];

interface HeaderRow {
  name: string;
  value: string;
  /** Sensitive headers come back without their value; an empty value keeps the stored one. */
  sensitive: boolean;
}

interface HeadersOut {
  headers: Record<string, string>;
  sensitive?: string[];
}

export function urlProblem(url: string): { error?: string; hint?: string } {
  if (!url.trim()) return { error: 'Enter the URL that should receive webhooks.' };
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return { error: 'Enter a full URL, starting with https://' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return { error: 'The URL must start with https:// or http://' };
  if (u.protocol === 'http:')
    return { hint: 'Use https:// in production: plain http sends your data unencrypted.' };
  return {};
}

function Field(props: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: preact.ComponentChildren;
  optional?: boolean;
}) {
  return (
    <div class={`field ${props.error ? 'has-error' : ''}`}>
      <label for={props.id}>
        {props.label}
        {props.optional && <span class="muted"> (optional)</span>}
      </label>
      {props.children}
      {props.error ? (
        <p class="hint error" id={`${props.id}-msg`} role="alert">
          {props.error}
        </p>
      ) : (
        props.hint && (
          <p class="hint" id={`${props.id}-msg`}>
            {props.hint}
          </p>
        )
      )}
    </div>
  );
}

function EventPicker({
  all,
  selected,
  onChange,
}: {
  all: EventType[];
  selected: string[];
  onChange: (s: string[]) => void;
}) {
  const [search, setSearch] = useState('');
  const shown = all.filter(
    (e) => !e.archived && `${e.name} ${e.description}`.toLowerCase().includes(search.toLowerCase()),
  );
  const allShownSelected = shown.length > 0 && shown.every((e) => selected.includes(e.name));
  const toggle = (name: string, on: boolean) =>
    onChange(on ? [...new Set([...selected, name])] : selected.filter((s) => s !== name));
  const toggleAll = (on: boolean) =>
    onChange(
      on
        ? [...new Set([...selected, ...shown.map((e) => e.name)])]
        : selected.filter((s) => !shown.some((e) => e.name === s)),
    );
  return (
    <fieldset class="events-picker">
      <legend>Events</legend>
      <p class="hint">
        {selected.length
          ? `${selected.length} selected.`
          : 'None selected: the endpoint receives every event.'}
      </p>
      <input
        type="search"
        placeholder="Search events"
        aria-label="Search events"
        value={search}
        onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
      />
      {all.length === 0 ? (
        <p class="muted">No event types are defined yet; the endpoint will receive every event.</p>
      ) : (
        <>
          <label class="check select-all">
            <input
              type="checkbox"
              checked={allShownSelected}
              onChange={(e) => toggleAll((e.target as HTMLInputElement).checked)}
            />
            {search ? 'Select all matching' : 'Select all events'}
          </label>
          <div class="events-list">
            {shown.map((e) => (
              <label class="check" key={e.name}>
                <input
                  type="checkbox"
                  checked={selected.includes(e.name)}
                  onChange={(ev) => toggle(e.name, (ev.target as HTMLInputElement).checked)}
                />
                <span>
                  <code>{e.name}</code>
                  {e.description && <span class="muted small"> — {e.description}</span>}
                </span>
              </label>
            ))}
            {shown.length === 0 && <p class="muted">No event matches “{search}”.</p>}
          </div>
        </>
      )}
    </fieldset>
  );
}

export function EndpointForm({ id }: { id?: string }) {
  const api = useApi();
  const loaded = useResource(async () => {
    const [types, ep, headers] = await Promise.all([
      api.get<Page<EventType>>('/api/v1/event-type', {
        limit: 250,
        with_content: true,
        include_archived: false,
      }),
      id ? api.get<Endpoint>(api.app(`endpoint/${id}`)) : Promise.resolve(null),
      id
        ? api.get<HeadersOut>(api.app(`endpoint/${id}/headers`)).catch(() => ({ headers: {}, sensitive: [] }))
        : Promise.resolve(null),
    ]);
    return { types: types.data, ep, headers };
  }, [api, id]);

  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [channels, setChannels] = useState('');
  const [method, setMethod] = useState<Method>('POST');
  const [token, setToken] = useState('');
  const [tokenSet, setTokenSet] = useState(false);
  const [removeToken, setRemoveToken] = useState(false);
  const [showToken, setShowToken] = useState(false);
  const [rate, setRate] = useState('');
  const [template, setTemplate] = useState('');
  const [exampleType, setExampleType] = useState('');
  const [headers, setHeaders] = useState<HeaderRow[]>([]);
  const [originalHeaders, setOriginalHeaders] = useState<string[]>([]);
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    const d = loaded.data;
    if (!d) return;
    if (d.ep) {
      setUrl(d.ep.url);
      setDescription(d.ep.description ?? '');
      setEvents(eventsOf(d.ep));
      setChannels((d.ep.channels ?? []).join(', '));
      setMethod(d.ep.method ?? 'POST');
      setRate(d.ep.throttleRate ? String(d.ep.throttleRate) : '');
      setTemplate(d.ep.payloadTemplate ?? '');
      setTokenSet(!!d.ep.bearerTokenSet);
    }
    if (d.headers) {
      const rows = [
        ...Object.entries(d.headers.headers ?? {}).map(([name, value]) => ({
          name,
          value,
          sensitive: false,
        })),
        ...(d.headers.sensitive ?? [])
          .filter((n) => !(n in (d.headers!.headers ?? {})))
          .map((name) => ({ name, value: '', sensitive: true })),
      ];
      setHeaders(rows);
      setOriginalHeaders(rows.map((r) => r.name));
    }
    const firstSelected = (d.ep && eventsOf(d.ep)[0]) || d.types[0]?.name || '';
    setExampleType(firstSelected);
  }, [loaded.data]);

  const urlCheck = urlProblem(url);
  const types = loaded.data?.types ?? [];
  const tplCheck = useMemo(
    () => validate(template, exampleType, exampleOf(types.find((t) => t.name === exampleType))),
    [template, exampleType, types],
  );

  // Once created, a retry (say the headers failed) updates that endpoint instead of adding another.
  const created = useRef<string | null>(null);
  const save = useAction(async () => {
    const channelList = channels
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    const body: Record<string, unknown> = {
      url: url.trim(),
      description,
      eventTypes: events.length ? events : null,
      channels: channelList.length ? channelList : null,
      method,
      payloadTemplate: template.trim() ? template : null,
      throttleRate: rate ? Number(rate) : null,
    };
    if (token) body.bearerToken = token;
    else if (removeToken) body.bearerToken = null;
    const existing = id ?? created.current;
    const ep = existing
      ? await api.patch<Endpoint>(api.app(`endpoint/${existing}`), body)
      : await api.post<Endpoint>(api.app('endpoint'), body);
    created.current = ep.id;
    const patch: Record<string, string | null> = {};
    for (const h of headers) if (h.name.trim() && (h.value || !h.sensitive)) patch[h.name.trim()] = h.value;
    for (const name of originalHeaders) if (!headers.some((h) => h.name.trim() === name)) patch[name] = null;
    if (Object.keys(patch).length) await api.patch(api.app(`endpoint/${ep.id}/headers`), { headers: patch });
    navigate(`/endpoints/${ep.id}`);
  });

  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;

  const fieldError = (name: string) => save.error?.fields[name];
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (urlCheck.error || !tplCheck.ok) return;
    void save.run();
  };

  return (
    <section aria-labelledby="form-title">
      <div class="page-head">
        <h1 id="form-title">{id ? 'Edit endpoint' : 'Add endpoint'}</h1>
        <Link to={id ? `/endpoints/${id}` : '/'} class="btn">
          Cancel
        </Link>
      </div>
      <form class="form" onSubmit={submit} noValidate>
        <Field
          id="url"
          label="Endpoint URL"
          error={(touched && urlCheck.error) || fieldError('url')}
          hint={urlCheck.hint ?? 'Where we send an HTTP request for each event.'}
        >
          <input
            id="url"
            type="url"
            inputMode="url"
            autoComplete="off"
            required
            placeholder="https://example.com/webhooks"
            value={url}
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
            onBlur={() => setTouched(true)}
            aria-describedby="url-msg"
            aria-invalid={!!((touched && urlCheck.error) || fieldError('url'))}
          />
        </Field>
        <Field id="description" label="Description" optional error={fieldError('description')}>
          <input
            id="description"
            value={description}
            onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
            placeholder="What this endpoint is for"
          />
        </Field>
        <EventPicker all={types} selected={events} onChange={setEvents} />
        {fieldError('eventTypes') && <p class="hint error">{fieldError('eventTypes')}</p>}

        <details
          class="advanced"
          open={!!(id && (template || headers.length || tokenSet || method !== 'POST'))}
        >
          <summary>Advanced: method, authentication, headers, payload</summary>
          <div class="grid-2">
            <Field id="method" label="HTTP method" error={fieldError('method')}>
              <select
                id="method"
                value={method}
                onChange={(e) => setMethod((e.target as HTMLSelectElement).value as Method)}
              >
                {METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </Field>
            <Field
              id="throttleRate"
              label="Rate limit (per second)"
              optional
              error={fieldError('throttleRate') ?? fieldError('rateLimit')}
            >
              <input
                id="throttleRate"
                type="number"
                min={1}
                max={65535}
                value={rate}
                onInput={(e) => setRate((e.target as HTMLInputElement).value)}
                placeholder="No limit"
              />
            </Field>
          </div>
          <Field
            id="bearerToken"
            label="Bearer token"
            optional
            error={fieldError('bearerToken')}
            hint={
              tokenSet
                ? 'A token is set. Type a new one to replace it.'
                : 'Sent as “Authorization: Bearer …” with every request.'
            }
          >
            <div class="input-group">
              <input
                id="bearerToken"
                type={(showToken ? 'text' : 'password') as 'password'}
                autoComplete="new-password"
                value={token}
                placeholder={tokenSet ? '••••••••' : ''}
                onInput={(e) => setToken((e.target as HTMLInputElement).value)}
                aria-describedby="bearerToken-msg"
              />
              <button
                type="button"
                class="btn"
                aria-pressed={showToken}
                aria-controls="bearerToken"
                onClick={() => setShowToken(!showToken)}
              >
                {showToken ? 'Hide' : 'Show'}
              </button>
            </div>
            {tokenSet && (
              <label class="check">
                <input
                  type="checkbox"
                  checked={removeToken}
                  onChange={(e) => setRemoveToken((e.target as HTMLInputElement).checked)}
                />{' '}
                Remove the token
              </label>
            )}
          </Field>
          <Field
            id="channels"
            label="Channels"
            optional
            error={fieldError('channels')}
            hint="Comma-separated. Only messages sent to one of these channels are delivered."
          >
            <input
              id="channels"
              value={channels}
              onInput={(e) => setChannels((e.target as HTMLInputElement).value)}
              placeholder="project_123, eu"
            />
          </Field>
          <fieldset class="headers-editor">
            <legend>Custom headers</legend>
            {headers.map((h, i) => (
              <div class="header-row" key={i}>
                <input
                  aria-label={`Header ${i + 1} name`}
                  placeholder="X-Header-Name"
                  value={h.name}
                  onInput={(e) =>
                    setHeaders(
                      headers.map((r, j) =>
                        j === i ? { ...r, name: (e.target as HTMLInputElement).value } : r,
                      ),
                    )
                  }
                />
                <input
                  aria-label={`Header ${i + 1} value`}
                  placeholder={h.sensitive ? 'hidden (unchanged)' : 'value'}
                  value={h.value}
                  onInput={(e) =>
                    setHeaders(
                      headers.map((r, j) =>
                        j === i ? { ...r, value: (e.target as HTMLInputElement).value } : r,
                      ),
                    )
                  }
                />
                <button
                  type="button"
                  class="btn btn-small"
                  aria-label={`Remove header ${h.name || i + 1}`}
                  onClick={() => setHeaders(headers.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </div>
            ))}
            {fieldError('headers') && <p class="hint error">{fieldError('headers')}</p>}
            <button
              type="button"
              class="btn btn-small"
              onClick={() => setHeaders([...headers, { name: '', value: '', sensitive: false }])}
            >
              Add header
            </button>
          </fieldset>
          <fieldset>
            <legend>Payload template</legend>
            <p class="hint">
              Leave empty to send the event as is. Variables are filled in at delivery; values are
              JSON-escaped.
            </p>
            <TemplateEditor
              value={template}
              onInput={setTemplate}
              eventTypes={types}
              exampleType={exampleType}
              onExampleType={setExampleType}
              serverError={fieldError('payloadTemplate')}
            />
          </fieldset>
        </details>

        <ErrorMessage error={save.error} />
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={save.pending}>
            {save.pending ? 'Saving…' : id ? 'Save changes' : 'Create endpoint'}
          </button>
        </div>
      </form>
    </section>
  );
}
