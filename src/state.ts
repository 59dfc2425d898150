import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** The package's root, found from this file whether it runs from `src/` or from `dist/src/`. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

function stateDirPath(): string {
  return process.env.HOOKFLOW_STATE_DIR ?? path.join(projectRoot(), '.hookflow');
}

/** `.hookflow/` beside package.json: embedded PostgreSQL data, the Temporal DB, cached binaries, generated keys. */
export function stateDir(): string {
  const dir = stateDirPath();
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A value kept in the state directory by `npm start`, if there is one (nothing is created). */
export function readState(name: string): string | undefined {
  try {
    return readFileSync(path.join(stateDirPath(), name), 'utf8').trim() || undefined;
  } catch {
    return undefined; // absent, or not ours to read
  }
}

/** A value generated once and kept in the state directory, so a restart reuses it. */
export function persistentSecret(
  name: string,
  make: () => string = () => randomBytes(32).toString('base64url'),
): string {
  const file = path.join(stateDir(), name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}
