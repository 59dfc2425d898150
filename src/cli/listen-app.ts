import { ApiError, expectApi, type ApiTarget } from './api-client';
import type { Delivery, DeliveryInfo, Describe } from './listen';

/**
 * `hookflow listen --app`: the listener as an endpoint of an application. It creates one
 * pointing at itself (or reuses an enabled one that already does), reads its signing
 * secret through the API, and on exit deletes the endpoint it created.
 */
export interface AppEndpoint {
  appId: string;
  endpointId: string;
  /** False when an endpoint pointing here existed already: it is left as it was on exit. */
  created: boolean;
  secret: string;
  /** Event type and attempt number of a delivery, from the API. */
  describe: Describe;
  /** Undoes what `attach` did (unless `keep`); says what it did. */
  detach(keep: boolean): Promise<string>;
}

/**
 * A message sent just before the endpoint existed (`listen &` then `send` at once) is not
 * routed to it: the messages of this last stretch that never reached it are replayed to it.
 */
export const CATCH_UP_SECONDS = 60;

const MSG_ID = /^msg_[0-9A-Za-z]+$/;
const seg = encodeURIComponent;

async function findPointingHere(target: ApiTarget, appId: string, url: string) {
  let iterator: string | null = null;
  for (let pages = 0; pages < 40; pages++) {
    const page: {
      data: Array<{ id: string; url: string; disabled: boolean }>;
      iterator: string | null;
      done: boolean;
    } = await expectApi(
      target,
      'listing its endpoints',
      200,
      'GET',
      `/app/${seg(appId)}/endpoint?limit=250${iterator ? `&iterator=${encodeURIComponent(iterator)}` : ''}`,
    );
    const found = page.data.find((ep) => ep.url === url && !ep.disabled);
    if (found) return found;
    if (page.done || !page.iterator) return null;
    iterator = page.iterator;
  }
  return null;
}

export async function attach(
  target: ApiTarget,
  app: string,
  url: string,
  log: (line: string) => void,
): Promise<AppEndpoint> {
  const application = await expectApi(
    target,
    `reading application "${app}"`,
    200,
    'GET',
    `/app/${seg(app)}`,
  ).catch((err: ApiError) => {
    throw err.status === 404
      ? new ApiError(`there is no application "${app}": create it first (POST /api/v1/app)`)
      : err;
  });
  const appId: string = application.id;
  const existing = await findPointingHere(target, appId, url);
  const endpoint =
    existing ??
    (await expectApi(target, 'creating its endpoint', 201, 'POST', `/app/${seg(appId)}/endpoint`, {
      url,
      description: `hookflow listen (pid ${process.pid})`,
      metadata: { createdBy: 'hookflow listen' },
    }));
  const endpointId: string = endpoint.id;
  const appEndpointPath = `/app/${seg(appId)}/endpoint/${seg(endpointId)}`;
  const remove = () => expectApi(target, `deleting endpoint ${endpointId}`, 204, 'DELETE', appEndpointPath);
  let secret: string;
  try {
    ({ key: secret } = await expectApi(
      target,
      'reading the signing secret',
      200,
      'GET',
      `${appEndpointPath}/secret`,
    ));
    if (existing) {
      // Deliveries that failed while nothing listened here are attempted now, not at their schedule.
      const { pending } = await expectApi(
        target,
        'retrying pending deliveries',
        200,
        'POST',
        `${appEndpointPath}/retry-pending`,
      );
      if (pending > 0)
        log(`asked for ${pending} pending deliver${pending === 1 ? 'y' : 'ies'} to be retried now`);
    } else {
      await expectApi(
        target,
        'catching up recent messages',
        202,
        'POST',
        `${appEndpointPath}/replay-missing`,
        {
          since: new Date(Date.now() - CATCH_UP_SECONDS * 1000).toISOString(),
        },
      );
    }
  } catch (err) {
    if (!existing) await remove().catch(() => undefined); // no endpoint left behind by a failed start
    throw err;
  }

  const describe: Describe = async (d: Delivery): Promise<DeliveryInfo> => {
    const msgId = String(d.headers['webhook-id'] ?? '');
    if (!MSG_ID.test(msgId)) return {};
    const [msg, attempts] = await Promise.all([
      expectApi(
        target,
        'reading the message',
        200,
        'GET',
        `/app/${seg(appId)}/msg/${seg(msgId)}?with_content=false`,
      ),
      expectApi(
        target,
        'reading its attempts',
        200,
        'GET',
        `/app/${seg(appId)}/attempt/msg/${seg(msgId)}?endpoint_id=${seg(endpointId)}&with_content=false&limit=250`,
      ),
    ]);
    // This attempt is recorded once answered: the ones recorded so far came before it.
    return { eventType: msg.eventType, attempt: (attempts.data as unknown[]).length + 1 };
  };

  return {
    appId,
    endpointId,
    created: !existing,
    secret,
    describe,
    async detach(keep) {
      if (existing) return `left endpoint ${endpointId} as it was (it existed before)`;
      if (keep) return `kept endpoint ${endpointId} (--keep)`;
      await remove();
      return `deleted endpoint ${endpointId}`;
    },
  };
}
