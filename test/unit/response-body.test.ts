import { storableBody } from '../../src/domain/response-body';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('storableBody', () => {
  it('keeps plain text as it is', () =>
    expect(storableBody(Buffer.from('{"ok":true}'), 100)).toEqual({ text: '{"ok":true}', truncated: false }));
  it('writes NUL as \\u0000, which a text column accepts', () =>
    expect(storableBody(Buffer.from('ok\u0000done'), 100).text).toBe('ok\\u0000done'));
  it('replaces invalid UTF-8 with U+FFFD', () =>
    expect(storableBody(bytes(0x61, 0xff, 0x62, 0xc3), 100).text).toBe('a\ufffdb\ufffd'));
  it('keeps valid multi-byte characters', () =>
    expect(storableBody(Buffer.from('é€😀'), 100).text).toBe('é€😀'));
  it('cuts at the cap and says so', () =>
    expect(storableBody(Buffer.from('abcdef'), 4)).toEqual({ text: 'abcd', truncated: true }));
  it('does not cut a character in half', () => {
    const euro = Buffer.from('ab€'); // € is 3 bytes
    expect(storableBody(euro, 4)).toEqual({ text: 'ab', truncated: true });
    expect(storableBody(Buffer.from('ab😀c'), 5)).toEqual({ text: 'ab', truncated: true });
    expect(storableBody(Buffer.from('ab😀c'), 6)).toEqual({ text: 'ab😀', truncated: true });
  });
  it('an empty body is empty', () =>
    expect(storableBody(bytes(), 10)).toEqual({ text: '', truncated: false }));
});
