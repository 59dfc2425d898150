import type { Results } from './report';
import type { Ingest } from './scenarios';

/** Every ingest run in the results (`ingest`, and any variant beside it, e.g. with no endpoint). */
function ingestRuns(r: Results): Array<[string, Ingest]> {
  return Object.entries(r).filter(
    (e): e is [string, Ingest] =>
      e[0].startsWith('ingest') && typeof (e[1] as Partial<Ingest> | undefined)?.accepted === 'number',
  );
}

/**
 * The targets of the current round: issue 12 (the attempt), issue 13 (ingest), and issue 24
 * (end to end at least 0.85× the local-activity baseline with the SDK's supported worker).
 */
export function targets(r: Results): Results['targets'] {
  const out: Results['targets'] = {};
  const e2e = r.endToEnd;
  if (e2e && r.temporalLocal) {
    const share = e2e.perSecond / r.temporalLocal.perSecond;
    out['end-to-end deliveries/s vs bare Temporal with a local activity'] = {
      target: '≥ 0.85×',
      value: `${share.toFixed(2)}× (${e2e.perSecond} vs ${r.temporalLocal.perSecond}/s)`,
      met: share >= 0.85,
    };
  }
  const cpu = e2e?.cpuMs;
  if (cpu) {
    out['Hookflow CPU ms per delivery, end to end'] = {
      target: '≤ 15 ms',
      value: `${cpu.hookflow} ms`,
      met: cpu.hookflow <= 15,
    };
    out['stack CPU ms per delivery (Hookflow + Temporal + PostgreSQL), end to end'] = {
      target: '≤ 40 ms',
      value: `${cpu.stack} ms (${cpu.hookflow} + ${cpu.temporal} + ${cpu.postgres})`,
      met: cpu.stack <= 40,
    };
  }
  if (r.fanOut100)
    out['fan-out 1 × 100 endpoints'] = {
      target: '< 1.5 s',
      value: `${r.fanOut100.seconds} s`,
      met: r.fanOut100.seconds < 1.5,
    };
  if (r.rssMb.apiPlusWorker !== null)
    out['peak RSS API + worker'] = {
      target: '< 300 MB',
      value: `${r.rssMb.apiPlusWorker} MB`,
      met: r.rssMb.apiPlusWorker < 300,
    };
  for (const [key, i] of ingestRuns(r)) {
    const what = `${key} (${i.endpoints} endpoint${i.endpoints === 1 ? '' : 's'})`;
    const floor = i.endpoints === 0 ? 2000 : 1000;
    const expected = i.stored * i.endpoints;
    out[`${what}: accepted/s, backlog drained`] = {
      target: `≥ ${floor}/s, nothing lost`,
      value: `${i.perSecond}/s; ${i.delivered} of ${expected} deliveries made`,
      met: i.perSecond >= floor && i.delivered >= expected,
    };
    // The API's own CPU: its process in split mode; `hookflow server` also delivers, so
    // there only a run with no endpoint measures the API alone.
    const api = r.settings.processes === 'split' ? i.cpuMsPerAccepted?.api : i.cpuMsPerAccepted?.hookflow;
    const alone = r.settings.processes === 'split' || i.endpoints === 0;
    if (api !== undefined)
      out[`${what}: API CPU ms per accepted message`] = {
        target: '≤ 0.5 ms',
        value: alone ? `${api} ms` : `${api} ms, API and worker in one process: not the API alone`,
        met: alone ? api <= 0.5 : null,
      };
  }
  return out;
}
