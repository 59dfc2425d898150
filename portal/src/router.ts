import { useEffect, useState } from 'preact/hooks';

/** A tiny history router under /portal/; the portal has a handful of screens. */
const BASE = '/portal';

export function currentPath(): string {
  const path = window.location.pathname.replace(/\/{2,}/g, '/');
  const p = path.startsWith(BASE) ? path.slice(BASE.length) : '/';
  return p || '/';
}

export function navigate(to: string, replace = false): void {
  const url = `${BASE}${to}${window.location.search}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo?.(0, 0);
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return path;
}

/** Matches `/endpoints/:id/edit` style patterns; returns params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

/** Internal links: keep the query (theme) and navigate without reloading. */
export function onLink(to: string) {
  return (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
}

export function href(to: string): string {
  return `${BASE}${to}${window.location.search}`;
}
