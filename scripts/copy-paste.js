#!/usr/bin/env node
// Fails when code is copied instead of shared. jscpd (a pinned devDependency) finds the
// blocks of 6 or more lines that stand twice, token for token, in the product's sources;
// the limits are the ones issue 25 set: none in api/routes/, where every resource route is
// made of api/resource.ts's pieces, and at most 10 in all. jscpd's own `threshold` is a
// share of all lines, which a few large pastes never reach, so the clones are counted here.
// Exact clones only: jscpd's --ignore-identifiers would also count the frame every route
// declaration shares (spec, then handler), which is the shape the helper gives them.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const folders = ['api', 'src', 'activities', 'workflows'];
const MIN_LINES = 6;
const MAX_CLONES = 10;
const NO_CLONES_IN = 'api/routes/';

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hookflow-jscpd-'));
try {
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('jscpd/run-jscpd.js'),
      ...['--min-lines', String(MIN_LINES), '--format', 'typescript'],
      ...['--reporters', 'json', '--output', out, '--absolute', '--silent', '--no-tips'],
      ...folders,
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, JSCPD_NO_TIPS: '1' } },
  );
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    throw new Error(`jscpd exited with ${run.status}`);
  }
  const report = JSON.parse(fs.readFileSync(path.join(out, 'jscpd-report.json'), 'utf8'));
  const where = (f) => `${path.relative(root, f.name)}:${f.start}-${f.end}`;
  const clones = report.duplicates.map((d) => `${where(d.firstFile)} ~ ${where(d.secondFile)}`);
  const inRoutes = clones.filter((c) => c.includes(NO_CLONES_IN));
  for (const c of clones) console.log(`  ${c}`);
  const problems = [
    clones.length > MAX_CLONES && `${clones.length} repeated blocks, at most ${MAX_CLONES} allowed`,
    inRoutes.length > 0 && `${inRoutes.length} in ${NO_CLONES_IN}, where none is allowed`,
  ].filter(Boolean);
  if (problems.length) {
    console.error(
      `copy-paste: ${problems.join('; ')} (blocks of ${MIN_LINES}+ lines; share the code instead)`,
    );
    process.exitCode = 1;
  } else {
    console.log(
      `copy-paste: ${clones.length} repeated blocks of ${MIN_LINES}+ lines (at most ${MAX_CLONES}, none in ${NO_CLONES_IN})`,
    );
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
