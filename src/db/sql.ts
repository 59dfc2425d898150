/**
 * A PostgreSQL array literal for a text[] parameter. Raw bindings expand a JS array into
 * a comma list, so arrays are passed as one literal and cast: `?::text[]`.
 */
export function textArray(values: readonly string[] | null | undefined): string | null {
  if (values == null) return null;
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}
