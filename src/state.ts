import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** `.hookflow/` beside package.json: embedded PostgreSQL data, the Temporal DB, cached binaries, generated keys. */
export function stateDir(): string {
  const dir = process.env.HOOKFLOW_STATE_DIR ?? path.resolve(__dirname, '..', '..', '.hookflow');
  const resolved = __dirname.includes(`${path.sep}dist${path.sep}`)
    ? dir
    : (process.env.HOOKFLOW_STATE_DIR ?? path.resolve(__dirname, '..', '.hookflow'));
  mkdirSync(resolved, { recursive: true });
  return resolved;
}

/** A value generated once and kept in the state directory, so a restart reuses it. */
export function persistentSecret(name: string, make: () => string = () => randomBytes(32).toString('base64url')): string {
  const file = path.join(stateDir(), name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}
