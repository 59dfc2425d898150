import { Api } from './api';
import { ApiContext, Empty, Link } from './components/ui';
import { match, usePath } from './router';
import { EndpointList } from './screens/EndpointList';
import { EndpointForm } from './screens/EndpointForm';
import { EndpointDetail } from './screens/EndpointDetail';
import { EventCatalog } from './screens/EventCatalog';

function Screen({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '/endpoints') return <EndpointList />;
  if (path === '/endpoints/new') return <EndpointForm />;
  if ((m = match('/endpoints/:id/edit', path))) return <EndpointForm id={m.id} />;
  if ((m = match('/endpoints/:id', path))) return <EndpointDetail id={m.id} />;
  if (path === '/event-types') return <EventCatalog />;
  return (
    <Empty title="This page does not exist.">
      <Link to="/">Back to endpoints</Link>
    </Empty>
  );
}

export function App({ api }: { api: Api | null }) {
  const path = usePath();
  if (!api) {
    return (
      <main class="container">
        <Empty title="This link is missing its access token.">
          <p>Open the webhooks page again from the product you came from.</p>
        </Empty>
      </main>
    );
  }
  const onEvents = path.startsWith('/event-types');
  return (
    <ApiContext.Provider value={api}>
      <header class="topbar">
        <nav class="container nav" aria-label="Webhooks">
          <span class="brand">Webhooks</span>
          <Link to="/" class={!onEvents ? 'active' : ''} aria-current={!onEvents ? 'page' : undefined}>
            Endpoints
          </Link>
          <Link
            to="/event-types"
            class={onEvents ? 'active' : ''}
            aria-current={onEvents ? 'page' : undefined}
          >
            Event catalog
          </Link>
        </nav>
      </header>
      <main class="container" id="main">
        <Screen path={path} />
      </main>
    </ApiContext.Provider>
  );
}
