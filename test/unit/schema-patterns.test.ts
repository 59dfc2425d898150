import fc from 'fast-check';
import {
  HEADER_NAME_PATTERN,
  HEADER_VALUE_PATTERN,
  headerNameProblem,
  headerValueProblem,
} from '../../src/domain/headers';
import { isValidSecret, SECRET_INPUT_PATTERN, SECRET_PREFIX } from '../../src/domain/signing';
import { HTTP_URL_PATTERN } from '../../api/schema-formats';
import { endpointUrl } from '../../api/routes/endpoints/schemas';

/**
 * The OpenAPI document states some checks as patterns (JSON Schema cannot run our code):
 * each pattern must accept exactly what the server's check accepts, or a client that
 * trusts the document is refused (or the document promises a refusal that never comes).
 */
describe('patterns in the OpenAPI document agree with the server', () => {
  const tokenChars = "!#$%&'*+-.^_`|~abcXYZ019";
  const nameLike = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{0,260}$/),
    fc.constantFrom(
      'Host',
      'CONTENT-type',
      'Webhook-Id',
      'X-Svix-Foo',
      'x-amz-date',
      '__proto__',
      'X-Ok',
      'a',
    ),
    fc
      .tuple(
        fc.constantFrom('webhook-', 'X-Forwarded-', 'svix-', 'X-Google', ''),
        fc.string({ unit: fc.constantFrom(...tokenChars) }),
      )
      .map(([a, b]) => a + b),
  );

  it('header names', () => {
    const pattern = new RegExp(HEADER_NAME_PATTERN);
    fc.assert(
      fc.property(nameLike, (name) => pattern.test(name) === (headerNameProblem(name) === null)),
      { numRuns: 3000 },
    );
  });

  it('header values', () => {
    const pattern = new RegExp(HEADER_VALUE_PATTERN);
    const value = fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '\t', '~', '\r', '\n', '\u007f', 'é'), maxLength: 20 }),
      fc.string({ unit: fc.constantFrom('a'), minLength: 4090, maxLength: 4100 }),
    );
    fc.assert(
      fc.property(value, (v) => pattern.test(v) === (headerValueProblem(v) === null)),
      { numRuns: 2000 },
    );
  });

  it('endpoint secrets', () => {
    const b64 = fc.string({ unit: fc.constantFrom('A', 'z', '0', '+', '/'), minLength: 28, maxLength: 92 });
    const secret = fc
      .tuple(fc.constantFrom('', SECRET_PREFIX), b64, fc.constantFrom('', '=', '==', '==='))
      .map(([p, b, pad]) => p + b + pad);
    fc.assert(
      fc.property(secret, (s) => {
        const full = s.startsWith(SECRET_PREFIX) ? s : SECRET_PREFIX + s;
        return SECRET_INPUT_PATTERN.test(s) === isValidSecret(full);
      }),
      { numRuns: 2000 },
    );
  });

  it('endpoint URLs: every URL the pattern admits parses, and the schema checks the pattern', () => {
    const pattern = new RegExp(HTTP_URL_PATTERN);
    fc.assert(
      // fast-check generates from the pattern without its lookaheads; the full one filters.
      fc.property(
        fc
          .stringMatching(new RegExp(HTTP_URL_PATTERN.replaceAll('(?![Xx][Nn]--)', '')), { size: 'small' })
          .filter((s) => pattern.test(s)),
        (url) => URL.canParse(url),
      ),
      { numRuns: 3000 },
    );
    for (const ok of [
      'http://127.0.0.1:8080/x',
      'https://api.example.com/hooks?a=1#f',
      'http://[::1]:9/',
      'http://[::ffff:127.0.0.1]/',
      'http://my_service:80',
    ])
      expect({ ok, valid: endpointUrl.safeParse(ok).success }).toEqual({ ok, valid: true });
    for (const bad of [
      'ftp://x',
      'http://user:pw@host/',
      'http://a b/',
      'http://1.2.3.256/',
      'http://host:99999/',
      'http://xn--a/',
      'http://',
    ])
      expect({ bad, valid: endpointUrl.safeParse(bad).success }).toEqual({ bad, valid: false });
  });
});
