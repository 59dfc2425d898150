import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prebuiltBundle } from '../../src/worker';

/** The worker uses the bundle `npm run build` made only while it is newer than every compiled workflow. */
describe('prebuilt workflow bundle', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hookflow-bundle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const touch = (file: string, secondsAgo: number) => {
    writeFileSync(path.join(dir, file), '');
    const at = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(path.join(dir, file), at, at);
  };

  it('is used when newer than the workflow modules, per tracing setting', () => {
    touch('deliver-message.js', 60);
    touch('bundle.js', 10);
    expect(prebuiltBundle(false, dir)).toEqual({ codePath: path.join(dir, 'bundle.js') });
    expect(prebuiltBundle(true, dir)).toBeNull(); // no tracing bundle: bundle at start
  });

  it('is ignored once a workflow module was rebuilt after it', () => {
    touch('bundle.js', 60);
    touch('deliver-message.js', 10);
    expect(prebuiltBundle(false, dir)).toBeNull();
  });
});
