import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The Temporal server that `npm run test:cluster` and `npm run bench -- --temporal server`
 * run, and that docker-compose.yml names (`temporalio/server` and `temporalio/admin-tools`
 * at this version; test/cluster/compose.test.ts checks they agree).
 */
export const TEMPORAL_SERVER_VERSION = '1.32.2';

/**
 * Go release that builds it: the server's go.mod asks for a newer Go than some machines
 * have, and the go command fetches this toolchain as a module when GOTOOLCHAIN names it.
 */
const GO_TOOLCHAIN = 'go1.27.3';

export interface TemporalServerBuild {
  /** `temporal-server` (the module's cmd/server). */
  server: string;
  /** `temporal-sql-tool` (cmd/tools/sql), for deploy/temporal/setup-schema.sh. */
  sqlTool: string;
  /** Holds `schema/postgresql/v12/{temporal,visibility}/versioned`, as /etc/temporal does in the images. */
  home: string;
  /** The module's config/docker.yaml: the template the server image renders from its environment. */
  configTemplate: string;
}

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'hookflow');
}

function layout(dir: string): TemporalServerBuild {
  return {
    server: path.join(dir, 'bin', 'temporal-server'),
    sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'),
    home: dir,
    configTemplate: path.join(dir, 'config', 'docker.yaml'),
  };
}

function complete(build: TemporalServerBuild): boolean {
  return [
    build.server,
    build.sqlTool,
    build.configTemplate,
    path.join(build.home, 'schema/postgresql/v12/visibility/versioned'),
  ].every((p) => existsSync(p));
}

/**
 * The server and its SQL tool for `version`, built from the Go module once and kept under
 * the user's cache (outside any clone, so every checkout and CI run reuses it). A first
 * build downloads the module's dependencies and compiles: about 15 minutes on 2 cores.
 */
export function temporalServerBuild(
  log: (m: string) => void = () => {},
  version = TEMPORAL_SERVER_VERSION,
): TemporalServerBuild {
  const dir = path.join(cacheRoot(), 'temporal-server', `v${version}`);
  const target = layout(dir);
  if (complete(target)) return target;

  log(
    `building Temporal server v${version} from its Go module into ${dir} (first time only, ~15 min on 2 cores)`,
  );
  const staging = `${dir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'bin'), { recursive: true });
  const env = {
    ...process.env,
    GOTOOLCHAIN: process.env.GOTOOLCHAIN || GO_TOOLCHAIN,
    GOBIN: path.join(staging, 'bin'),
    GOFLAGS: '-buildvcs=false',
  };
  const go = (args: string[]) =>
    execFileSync('go', args, {
      env,
      cwd: os.tmpdir(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  try {
    go([
      'install',
      `go.temporal.io/server/cmd/server@v${version}`,
      `go.temporal.io/server/cmd/tools/sql@v${version}`,
    ]);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `could not build the Temporal server v${version} with Go (${(err as Error).message.split('\n')[0]}); ` +
        'it needs the go command and its module proxy',
    );
  }
  renameSync(path.join(staging, 'bin', 'server'), path.join(staging, 'bin', 'temporal-server'));
  renameSync(path.join(staging, 'bin', 'sql'), path.join(staging, 'bin', 'temporal-sql-tool'));
  const module = path.join(go(['env', 'GOMODCACHE']).trim(), `go.temporal.io/server@v${version}`);
  cpSync(path.join(module, 'schema', 'postgresql'), path.join(staging, 'schema', 'postgresql'), {
    recursive: true,
  });
  cpSync(path.join(module, 'config', 'docker.yaml'), path.join(staging, 'config', 'docker.yaml'));
  // The module cache is read-only; the copies need not be.
  execFileSync('chmod', ['-R', 'u+w', staging]);
  chmodSync(staging, 0o755);
  if (complete(target)) rmSync(staging, { recursive: true, force: true });
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  log(`Temporal server v${version} built`);
  return target;
}
