/**
 * The portal's session: the app-scoped token and application id arrive in the URL fragment
 * (`#token=…&app=…`), which browsers never send to servers. They are moved to
 * sessionStorage and the fragment is cleared so the token does not stay in the address bar
 * or history. Theme options come from the query or the fragment.
 */
export interface Session {
  token: string;
  appId: string;
}

export interface Theme {
  primary: string | null;
  dark: boolean;
}

const KEY = 'hookflow.portal.session';

function read(store: () => Storage): Session | null {
  try {
    const raw = store().getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null; // sandboxed iframes without storage
  }
}

export function loadSession(loc: Location = window.location): Session | null {
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const token = hash.get('token');
  const appId = hash.get('app');
  if (token && appId) {
    const session = { token, appId };
    try {
      sessionStorage.setItem(KEY, JSON.stringify(session));
    } catch {
      /* kept in memory only */
    }
    hash.delete('token');
    hash.delete('app');
    const rest = hash.toString();
    history.replaceState(history.state, '', loc.pathname + loc.search + (rest ? `#${rest}` : ''));
    return session;
  }
  return read(() => sessionStorage);
}

const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

export function loadTheme(loc: Location = window.location): Theme {
  const query = new URLSearchParams(loc.search);
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const get = (k: string) => hash.get(k) ?? query.get(k);
  const primary = get('primary');
  const dark = get('dark');
  return {
    primary: primary && HEX.test(primary) ? (primary.startsWith('#') ? primary : `#${primary}`) : null,
    dark:
      dark === null
        ? window.matchMedia?.('(prefers-color-scheme: dark)').matches === true
        : dark === '1' || dark === 'true',
  };
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = theme.dark ? 'dark' : 'light';
  // Set through the CSSOM, which the self-only style-src CSP allows.
  if (theme.primary) root.style.setProperty('--primary', theme.primary);
}
