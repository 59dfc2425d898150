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
export function endpointEvents({ lifecycle, operational, log }: Pick<ApiDeps, 'lifecycle' | 'operational' | 'log'>) {
  async function emit(type: OperationalEventType, data: Record<string, unknown>): Promise<void> {
    try {
      await operational.emit(type, data);
    } catch (err) {
      log.warn({ err: String(err), type }, 'operational webhook not sent');
    }
  }

  return {
    created: (app: Application, ep: Endpoint) => emit('endpoint.created', operationalData(app, ep)),

    async updated(app: Application, ep: Endpoint, wasDisabled: boolean): Promise<void> {
      await emit('endpoint.updated', operationalData(app, ep));
      if (ep.disabled && !wasDisabled) {
        await lifecycle.signalDisabled(ep.id, 'Endpoint disabled');
        await emit('endpoint.disabled', { ...operationalData(app, ep), trigger: 'manual' });
      }
    },

    async deleted(app: Application, ep: Endpoint): Promise<void> {
      await lifecycle.signalDisabled(ep.id, 'Endpoint deleted');
      await emit('endpoint.deleted', operationalData(app, ep));
    },
  };
}
