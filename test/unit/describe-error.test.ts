import { describeError } from '../../src/errors';

describe('describeError', () => {
  it.each([
    [new Error('boom'), 'boom'],
    [new TypeError(''), 'TypeError'],
    [undefined, 'failed without saying why (the error was undefined)'],
    [null, 'failed without saying why (the error was null)'],
    ['a string', 'a string'],
    ['', 'failed with an empty message'],
    [{ message: 'like an error' }, 'like an error'],
    [{ code: 57 }, '{"code":57}'],
    [42, '42'],
  ])('%p → %p', (err, text) => expect(describeError(err)).toBe(text));

  it('describes what JSON cannot', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular)).toBe('[object Object]');
  });
});
