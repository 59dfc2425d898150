import type { Application, Endpoint } from '../../../src/db/entities';
import type { OperationalEventType } from '../../../src/domain/operational-webhooks';
import type { ApiDeps } from '../../context';
import { operationalData } from './model';

/**
 * Side effects of endpoint changes, run after the change is committed: running deliveries
 * are told to stop when an endpoint is disabled or deleted, and operational webhooks are
 * emitted. A failure here never turns a committed change into an error answer: attempts
 * re-read the endpoint anyway, so a missed signal only delays the stop until the next one.
 */
export function endpointEvents({
  lifecycle,
  operational,
  log,
}: Pick<ApiDeps, 'lifecycle' | 'operational' | 'log'>) {
  async function emit(type: OperationalEventType, data: Record<string, unknown>): Promise<void> {
    await bounded(
      operational
        .emit(type, data)
        .catch((err) => log.warn({ err: String(err), type }, 'operational webhook not sent')),
    );
  }
  // With Temporal unreachable the answer must not hang; the work goes on in the background.
  const signal = (endpointId: string, reason: string) =>
    bounded(lifecycle.signalDisabled(endpointId, reason));

  return {
    created: (app: Application, ep: Endpoint) => emit('endpoint.created', operationalData(app, ep)),

    async updated(app: Application, ep: Endpoint, wasDisabled: boolean): Promise<void> {
      await emit('endpoint.updated', operationalData(app, ep));
      if (ep.disabled && !wasDisabled) {
        await signal(ep.id, 'Endpoint disabled');
        await emit('endpoint.disabled', { ...operationalData(app, ep), trigger: 'manual' });
      }
    },

    /** Its running deliveries are stopped by the DeleteResources workflow. */
    async deleted(app: Application, ep: Endpoint): Promise<void> {
      await emit('endpoint.deleted', operationalData(app, ep));
    },
  };
}

const SIDE_EFFECT_WAIT_MS = 5000;

function bounded(work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SIDE_EFFECT_WAIT_MS);
    timer.unref();
  });
  return Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}
