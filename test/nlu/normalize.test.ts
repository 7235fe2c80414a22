import { describe, it, expect } from 'vitest';
import { foldWidth, normalize } from '../../src/nlu/normalize.js';

describe('normalize', () => {
  it.each([
    ['ＴＤ２０２６', 'td2026'],
    ['我想退订　视频彩铃', '我想退订 视频彩铃'],
    ['  退订   彩铃  ', '退订 彩铃'],
    ['我想退訂視頻彩鈴', '我想退订视频彩铃'],
    ['銷號', '销号'],
    ['VIP會員', 'vip会员'],
    ['十元三十G的流量包', '10元30g的流量包'],
    ['五块钱的彩铃', '5块钱的彩铃'],
    ['每个月扣我十五块', '每个月扣我15块'],
    ['一百分钟语音包', '100分钟语音包'],
    ['第二个和第三个', '第2个和第3个'],
    ['一二三四五六', '123456'],
  ])('turns %s into %s', (input, expected) => {
    expect(normalize(input)).toBe(expected);
  });

  it.each([['千兆宽带'], ['两个都退'], ['退一下'], ['一个业务'], ['万一扣钱了呢']])('leaves the words in %s alone', (input) => {
    expect(normalize(input)).toBe(input);
  });

  it('folds full-width punctuation and the ideographic space', () => {
    expect(foldWidth('好的！　？')).toBe('好的! ?');
  });

  it('never throws on odd input', () => {
    for (const s of ['', ' ', '\u0000', '😀😀', 'a'.repeat(10_000), '\uD800']) expect(typeof normalize(s)).toBe('string');
  });
});
