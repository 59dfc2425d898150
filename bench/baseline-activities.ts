import { Agent, request } from 'undici';

/** The bare-Temporal activity: one POST with a pooled undici agent, no database, no signing. */
export function createBaselineActivities(agent: Agent) {
  return {
    async post(input: { url: string; id: string }): Promise<number> {
      const res = await request(input.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': input.id },
        body: JSON.stringify({ type: 'bench.baseline', id: input.id }),
        dispatcher: agent,
      });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`receiver answered ${res.statusCode}`);
      return res.statusCode;
    },
  };
}
