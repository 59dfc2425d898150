import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../src/config';
import { TEMPORAL_SERVER_VERSION } from '../../src/temporal/server-build';
import { composeTemporalSettings } from '../../src/temporal/server';

/**
 * No Docker engine runs here, so docker-compose.yml is kept honest by reading it: the
 * services the design names, their ports, and an environment the config schema accepts.
 */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'), {
    merge: true,
  });
  const services = compose.services as Record<string, any>;

  it('has PostgreSQL, Temporal, its Web UI, migrate, API and worker, with health checks', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'migrate',
      'postgres',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
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
    expect(services.migrate.depends_on['temporal-namespace'].condition).toBe(
      'service_completed_successfully',
    );
  });

  it('runs the Temporal server that npm run test:cluster runs, set up by the same scripts and settings', () => {
    // The cluster tests build this version from its Go module and start it with the settings
    // read from this file (test/cluster/harness.ts), so the two cannot drift apart.
    const { version, settings } = composeTemporalSettings(compose);
    expect(version).toBe(TEMPORAL_SERVER_VERSION);
    for (const tool of ['temporal-schema', 'temporal-namespace']) {
      expect(services[tool].image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
      expect(services[tool].volumes).toContain('./deploy/temporal:/deploy:ro');
    }
    expect(services['temporal-schema'].entrypoint).toEqual(['/bin/sh', '/deploy/setup-schema.sh']);
    expect(services['temporal-namespace'].entrypoint).toEqual(['/bin/sh', '/deploy/create-namespace.sh']);
    expect(services.temporal.depends_on['temporal-schema'].condition).toBe('service_completed_successfully');
    // The dynamic config the server reads is the repository's file, mounted where the image looks.
    expect(services.temporal.volumes).toContain(
      './deploy/temporal/dynamicconfig:/etc/temporal/config/dynamicconfig:ro',
    );
    const file = path.basename(settings.DYNAMIC_CONFIG_FILE_PATH);
    expect(settings.DYNAMIC_CONFIG_FILE_PATH).toBe(`config/dynamicconfig/${file}`);
    expect(existsSync(path.join(__dirname, '..', '..', 'deploy', 'temporal', 'dynamicconfig', file))).toBe(
      true,
    );
    expect(Number(settings.NUM_HISTORY_SHARDS)).toBeGreaterThan(1);
    expect(settings.DB).toBe('postgres12');
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
