import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../http-errors';

/** A path the app serves, OpenAPI style (`/api/v1/app/{app}`), with the methods it answers. */
export interface KnownRoute {
  path: string;
  methods: string[];
}

interface Compiled {
  pattern: RegExp;
  methods: Set<string>;
}

/** `{param}` matches one path segment, as express's `:param` does; a final `/*` any rest. */
function compile(path: string): RegExp {
  const rest = path.endsWith('/*');
  const parts = (rest ? path.slice(0, -2) : path)
    .split(/\{[^}]+\}/)
    .map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}${rest ? '(/.*)?' : '/?'}$`, 'i');
}

/**
 * The same answer on every known path for a method it does not serve: 405 with `Allow`
 * (RFC 9110), before authentication, so TRACE or an unknown verb never depends on the
 * token or on which router owns the path. OPTIONS answers 204 with `Allow`. Paths that
 * no route serves fall through to the 404.
 */
export function methodNotAllowed(routes: () => KnownRoute[]) {
  let compiled: Compiled[] | null = null;
  let size = -1;
  return (req: Request, res: Response, next: NextFunction) => {
    const known = routes();
    if (!compiled || known.length !== size) {
      const byPath = new Map<string, Set<string>>();
      for (const r of known) {
        const set = byPath.get(r.path) ?? new Set<string>();
        for (const m of r.methods) set.add(m.toUpperCase());
        byPath.set(r.path, set);
      }
      compiled = [...byPath].map(([path, methods]) => ({ pattern: compile(path), methods }));
      size = known.length;
    }
    const allowed = new Set<string>();
    for (const c of compiled) {
      if (!c.pattern.test(req.path)) continue;
      // The common case, a method the path serves, goes on at its first match.
      if (c.methods.has(req.method)) return next();
      for (const m of c.methods) allowed.add(m);
    }
    if (!allowed.size) return next();
    if (allowed.has('GET')) allowed.add('HEAD');
    allowed.add('OPTIONS');
    const allow = [...allowed].join(', ');
    if (req.method === 'OPTIONS') return void res.set('allow', allow).status(204).end();
    if (allowed.has(req.method)) return next();
    throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${allow}`, {
      allow,
    });
  };
}
