/**
 * A receiver's response body as text PostgreSQL will store: at most `max` bytes, invalid
 * UTF-8 replaced by U+FFFD (as TextDecoder does) and NUL written as the six characters
 * `\u0000`, since a `text` column refuses NUL. Whatever the receiver answers, recording it
 * cannot fail.
 */
export function storableBody(bytes: Uint8Array, max: number): { text: string; truncated: boolean } {
  const truncated = bytes.length > max;
  let view = truncated ? bytes.subarray(0, max) : bytes;
  // Do not leave half a UTF-8 sequence at the cut: it would decode as a replacement character.
  if (truncated) view = view.subarray(0, utf8Boundary(view));
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(view);
  return { text: text.includes('\u0000') ? text.replace(/\u0000/g, '\\u0000') : text, truncated };
}

/** The length of the longest prefix of `b` that does not end inside a multi-byte sequence. */
function utf8Boundary(b: Uint8Array): number {
  const i = b.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
  let back = 0;
  while (back < 3 && i - back - 1 >= 0 && (b[i - back - 1] & 0xc0) === 0x80) back++;
  const lead = i - back - 1;
  if (lead < 0) return i;
  const c = b[lead];
  const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  return need > back + 1 ? lead : i;
}
