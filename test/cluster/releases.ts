import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot } from '../../src/temporal/server-build';
import type { Release } from './harness';

const REPO = path.join(__dirname, '..', '..');

/**
 * The release a rolling upgrade starts from: the last one that landed before this one.
 * Move it forward when a release lands, so every upgrade path users take is tested once.
 */
export const PREVIOUS_RELEASE = {
  commit: '788984ae00ad79558ef277d64e34f439b0520795',
  name: 'round 6 (788984a)',
};

/**
 * That release as a user installs it: its files from git, `npm ci` (whose prepare script
 * builds it), kept under the user's cache by commit so a second run starts at once.
 */
export function buildRelease(
  release = PREVIOUS_RELEASE,
  log: (m: string) => void = (m) => process.stderr.write(`[release] ${m}\n`),
): Release {
  const dir = path.join(cacheRoot(), 'releases', release.commit);
  const cli = () =>
    path.join(dir, JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).bin.hookflow);
  if (existsSync(path.join(dir, '.built'))) return { name: release.name, cli: cli() };

  try {
    execFileSync('git', ['-C', REPO, 'cat-file', '-e', `${release.commit}^{commit}`], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `commit ${release.commit} (${release.name}) is not in this clone's history; a rolling-upgrade test needs ` +
        'a full clone (not --depth)',
    );
  }
  log(`building ${release.name} into ${dir} (npm ci and build, once)`);
  const staging = `${dir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execSync(`git -C ${JSON.stringify(REPO)} archive ${release.commit} | tar -x -C ${JSON.stringify(staging)}`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: staging,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync('touch', [path.join(staging, '.built')]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return { name: release.name, cli: cli() };
}
