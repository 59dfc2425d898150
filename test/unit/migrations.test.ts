import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Migrations are expand/contract (docs/design.md, Rolling upgrades): while the previous
 * release still runs beside the new schema, a migration may add, never take away. A drop or
 * rename of what the previous release reads waits for a later release, and says so with a
 * `contract:` comment naming the release since which nothing reads it.
 * test/cluster/rolling-upgrade.test.ts proves it end to end; this catches it at once.
 */
const dir = path.join(__dirname, '..', '..', 'src', 'db', 'migrations');
/** The last migration of the release the rolling-upgrade test starts from (test/cluster/releases.ts). */
const LAST_OF_PREVIOUS_RELEASE = 'Migration20261201300000_revoked_tokens';
const CONTRACTING =
  /\bdrop\s+(column|table|index|constraint|type|view)\b|\brename\b|\balter\s+column\s+\S+\s+(set\s+not\s+null|type)\b|\badd\s+column\s+\S+\s+[^,;]*\bnot\s+null\b(?![^,;]*\bdefault\b)/i;

describe('migrations since the previous release', () => {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();

  it('include the previous release last one (the list this rule starts from)', () => {
    expect(names).toContain(LAST_OF_PREVIOUS_RELEASE);
  });

  it('add to the schema and take nothing away', () => {
    const offending = names
      .filter((n) => n > LAST_OF_PREVIOUS_RELEASE)
      .flatMap((name) => {
        const text = readFileSync(path.join(dir, `${name}.ts`), 'utf8');
        const end = text.indexOf('down()');
        const up = text.slice(text.indexOf('up()'), end > 0 ? end : undefined);
        if (/contract:/.test(up)) return [];
        return up
          .split('\n')
          .filter((line) => CONTRACTING.test(line))
          .map((line) => `${name}: ${line.trim()}`);
      });
    expect(offending).toEqual([]);
  });

  it('recognises what would break the running release', () => {
    for (const bad of [
      'alter table messages drop column payload;',
      'drop table message_content;',
      'alter table endpoints rename column url to address;',
      'alter table deliveries alter column state set not null;',
      'alter table endpoints add column weight int not null;',
    ])
      expect(CONTRACTING.test(bad)).toBe(true);
    for (const fine of [
      'alter table applications add column max_in_flight int;',
      'alter table endpoints add column weight int not null default 1;',
      'create index concurrently if not exists x on y (z);',
      'create table expired_tokens (app_id text primary key);',
    ])
      expect(CONTRACTING.test(fine)).toBe(false);
  });
});
