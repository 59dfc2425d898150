/**
 * libpq's way to name a Unix socket in a URL, as PostgreSQL's own tools read it:
 * `postgresql://user:password@localhost/db?host=/run/postgresql`, where the `host`
 * parameter (a directory) wins over the URL's host and `port` names the socket file
 * (`.s.PGSQL.<port>`). MikroORM's URL parsing drops the parameters and would connect over
 * TCP instead; this is what to hand it as `host` and `port` (node-postgres takes a host that
 * starts with `/` as a socket directory). Undefined for a TCP URL.
 */
export function socketOf(databaseUrl: string): { host: string; port: number } | undefined {
  const url = new URL(databaseUrl);
  const host = url.searchParams.get('host');
  if (!host?.startsWith('/')) return undefined;
  return { host, port: Number(url.searchParams.get('port') ?? url.port) || 5432 };
}
