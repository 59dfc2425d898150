/** Which endpoints a message goes to: enabled, type filter empty or matching, channels overlapping. */
export interface Routable {
  disabled: boolean;
  eventTypes: string[] | null;
  channels: string[] | null;
}

export function endpointMatches(ep: Routable, eventType: string, channels: string[] | null): boolean {
  if (ep.disabled) return false;
  if (ep.eventTypes && ep.eventTypes.length > 0 && !ep.eventTypes.includes(eventType)) return false;
  if (ep.channels && ep.channels.length > 0) {
    if (!channels || !channels.some((c) => ep.channels!.includes(c))) return false;
  }
  return true;
}

/** The same rule as SQL, for date-range queries (replay-missing, bulk replay). Uses ? placeholders. */
export const ENDPOINT_MATCHES_MESSAGE_SQL = `
  not e.disabled
  and (e.event_types is null or cardinality(e.event_types) = 0 or m.event_type = any(e.event_types))
  and (e.channels is null or cardinality(e.channels) = 0 or (m.channels is not null and m.channels && e.channels))`;
