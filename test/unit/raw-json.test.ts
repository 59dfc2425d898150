import { RawJson, memberText, stringify } from '../../src/domain/raw-json';

/** Pure rules behind byte-for-byte payloads: locating a member's text, writing raw text back. */
describe('memberText', () => {
  it('returns the exact source text of a top-level member, whatever it holds', () => {
    const payload = '{ "b" : 9007199254740993, "a": [1e400, "\\u00e9", {"payload": 1}] }';
    expect(memberText(`{"eventType":"x","payload":${payload},"tags":["a"]}`, 'payload')).toBe(payload);
    expect(memberText('{"payload":  -0.0  }', 'payload')).toBe('-0.0');
    expect(memberText('{"payload":"a\\"}b"}', 'payload')).toBe('"a\\"}b"');
  });

  it('finds a key written with escapes, and the last of duplicates, as JSON.parse does', () => {
    expect(memberText('{"p\\u0061yload":{"x":1}}', 'payload')).toBe('{"x":1}');
    const text = '{"payload":{"first":1},"payload":{"second":2}}';
    expect(memberText(text, 'payload')).toBe(JSON.stringify(JSON.parse(text).payload));
  });

  it('ignores nested members of the same name and answers undefined when there is none', () => {
    expect(memberText('{"application":{"payload":{"no":1}}}', 'payload')).toBeUndefined();
    expect(memberText('{"a":{"payload":1},"payload":{}}', 'payload')).toBe('{}');
  });
});

describe('stringify', () => {
  it('writes RawJson as its text and everything else as JSON.stringify does', () => {
    const value = {
      id: 'msg_1',
      n: 1,
      skipped: undefined,
      at: new Date(0),
      list: [new RawJson('{"b":1,"a":9007199254740993}'), undefined, null],
      payload: new RawJson('{ "x" : 1e400 }'),
    };
    expect(stringify(value)).toBe(
      '{"id":"msg_1","n":1,"at":"1970-01-01T00:00:00.000Z","list":[{"b":1,"a":9007199254740993},null,null],"payload":{ "x" : 1e400 }}',
    );
    const plain = { a: [1, 'two', { three: true }], b: null, c: 'é\n' };
    expect(stringify(plain)).toBe(JSON.stringify(plain));
  });
});
