import { z } from 'zod';

/**
 * Schemas whose check is a pattern the OpenAPI document can state, so what the document
 * allows is exactly what the server accepts. Patterns use `[0-9]`, never `\d`: JSON Schema
 * tools in other languages read `\d` as any Unicode digit.
 */

/** RFC 3339 date-time with an offset or Z, as zod checks it (a leap day only in leap years). */
const DATE_TIME = z.iso.datetime({ offset: true });
export const isoDateTime = DATE_TIME.meta({
  pattern: (DATE_TIME._zod.def as unknown as { pattern: RegExp }).pattern.source.replace(/\\d/g, '[0-9]'),
});

/** An integer query parameter (query values are strings; the document says integer). */
export const queryInt = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).meta({ type: 'integer', minimum: min, maximum: max });

/** An integer query parameter that must be one of `values`. */
export const queryIntEnum = (values: readonly number[], message: string) =>
  z.coerce
    .number()
    .int()
    .refine((n) => values.includes(n), message)
    .meta({ type: 'integer', enum: [...values] });

const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = `(?:${DEC_OCTET}\\.){3}${DEC_OCTET}`;
const H16 = '[0-9A-Fa-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** RFC 3986's IPv6address, every form the URL parser takes (no zone id). */
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|');
/**
 * ASCII host names: labels of letters, digits, "-" and "_"; the last one starts with a
 * letter or "_" (one that looks like a number would be read as an IPv4 address), and no
 * label starts with "xn--" (punycode the URL parser may refuse).
 */
const LABEL = '(?![Xx][Nn]--)[A-Za-z0-9_-]{1,63}';
const LAST_LABEL = '(?![Xx][Nn]--)[A-Za-z_][A-Za-z0-9_-]{0,62}';
const HOST = `(?:(?:${LABEL}\\.)*${LAST_LABEL}|${IPV4}|\\[(?:${IPV6})\\])`;
const PORT = '(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
/** http(s), a host, an optional port, then any visible ASCII: no credentials, no spaces. */
export const HTTP_URL_PATTERN = `^[Hh][Tt][Tt][Pp][Ss]?://${HOST}(?::${PORT})?(?:[/?#][\\x21-\\x7e]*)?$`;
