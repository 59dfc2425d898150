import { useState } from 'preact/hooks';
import type { Page } from '../api';
import type { EventType } from '../types';
import { Badge, Empty, ErrorMessage, Loading, prettyJson, useApi, useResource } from '../components/ui';
import { exampleOf } from '../components/TemplateEditor';

/** Every event the product can send, with its JSON schema and an example payload. */
export function EventCatalog() {
  const api = useApi();
  const [search, setSearch] = useState('');
  const list = useResource(
    () => api.get<Page<EventType>>('/api/v1/event-type', { limit: 250, with_content: true }),
    [api],
  );
  const types = (list.data?.data ?? []).filter(
    (t) => !t.archived && `${t.name} ${t.description}`.toLowerCase().includes(search.toLowerCase()),
  );
  return (
    <section aria-labelledby="catalog-title">
      <div class="page-head">
        <h1 id="catalog-title">Event catalog</h1>
        <input
          type="search"
          aria-label="Search events"
          placeholder="Search events"
          value={search}
          onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
        />
      </div>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.data.length === 0 && <Empty title="No event types yet." />}
      {list.data && list.data.data.length > 0 && types.length === 0 && (
        <Empty title={`No event matches “${search}”.`} />
      )}
      <div class="catalog">
        {types.map((t) => {
          const example = exampleOf(t);
          const schema = (t.schemas as Record<string, unknown> | null)?.['1'] ?? t.schemas;
          return (
            <details class="card event-type" key={t.name}>
              <summary>
                <code>{t.name}</code> {t.deprecated && <Badge kind="warn">Deprecated</Badge>}
                <span class="muted small"> {t.description}</span>
              </summary>
              <div class="grid-2">
                <div>
                  <h3>Example</h3>
                  <pre class="code-block">
                    {Object.keys(example).length ? prettyJson(example) : 'No example.'}
                  </pre>
                </div>
                <div>
                  <h3>Schema</h3>
                  <pre class="code-block">
                    {schema && Object.keys(schema).length ? prettyJson(schema) : 'No schema.'}
                  </pre>
                </div>
              </div>
            </details>
          );
        })}
      </div>
    </section>
  );
}
