import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../src/config';

/**
 * No Docker engine runs here, so docker-compose.yml is kept honest by reading it: the
 * services the design names, their ports, and an environment the config schema accepts.
 */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8'), {
    merge: true,
  });
  const services = compose.services as Record<string, any>;

  it('has PostgreSQL, Temporal, its Web UI, migrate, API and worker, with health checks', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'migrate',
      'postgres',
      'temporal',
      'temporal-ui',
      'worker',
    ]);
    for (const name of ['postgres', 'temporal', 'api'])
      expect(services[name].healthcheck?.test).toBeDefined();
    expect(services.temporal.environment.DB).toMatch(/^postgres/);
    expect(services.api.ports).toContain('8080:8080');
    expect(services['temporal-ui'].ports).toContain('8233:8080');
    expect(services.migrate.command).toEqual(['migrate']);
    expect(services.api.command).toEqual(['api']);
    expect(services.worker.command).toEqual(['worker']);
    expect(services.api.depends_on.migrate.condition).toBe('service_completed_successfully');
  });

  it.each(['migrate', 'api', 'worker'])('gives %s an environment the config schema accepts', (name) => {
    const env: Record<string, string> = Object.fromEntries(
      Object.entries(services[name].environment as Record<string, unknown>).map(([k, v]) => [
        k,
        // ${VAR:?message} placeholders stand for values the operator supplies.
        String(v)
          .replace(/^\$\{HOOKFLOW_ADMIN_TOKEN.*\}$/, 'x'.repeat(24))
          .replace(/^\$\{HOOKFLOW_SECRET_KEY.*\}$/, 'y'.repeat(40)),
      ]),
    );
    const known = Object.keys(configSchema.in.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    const parsed = configSchema.safeParse(env);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    for (const needed of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'HOOKFLOW_ADMIN_TOKEN', 'HOOKFLOW_SECRET_KEY'])
      expect(env[needed]).toBeDefined();
    // Hosts in the URLs are compose service names.
    expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
    expect(env.TEMPORAL_ADDRESS.split(':')[0]).toBe('temporal');
  });
});
