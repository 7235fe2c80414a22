import { describe, expect, it } from 'vitest';
import { maskText, maskValue } from '../../src/privacy/mask.js';

describe('masking', () => {
  it('hides a service password typed alone or inside a sentence, in any script around it', () => {
    for (const text of ['582947', '新密码是582947', '密碼：582947。', 'my new one is 582947!']) {
      expect(maskText(text)).not.toContain('582947');
      expect(maskText(text)).toContain('******');
    }
  });

  it('hides numbers, codes and ID digits typed in full-width digits (a Chinese keyboard in full-width mode)', () => {
    expect(maskText('我的号码是１３８００１３８０００')).toBe('我的号码是138****8000');
    expect(maskText('号码１３８　００１３　８０００')).toBe('号码138****8000');
    expect(maskText('验证码：４８２９１３')).toBe('验证码：******');
    const id = maskText('身份证１１０１０１１９９００３０７１２３Ｘ');
    for (const digits of ['110101', '19900307', '１１０１０１']) expect(id).not.toContain(digits);
  });

  it('hides secrets inside structured fields', () => {
    expect(JSON.stringify(maskValue({ body: { newSecret: '582947', msisdn: '13800138000' } }))).toBe('{"body":{"newSecret":"******","msisdn":"138****8000"}}');
  });

  it('hides four or five digits that the words before them call a code, password, card tail or ID digits, or that are the whole message', () => {
    const cases: [typed: string, shown: string][] = [
      ['验证码1234', '验证码****'],
      ['短信校验码是 90817，收到了', '短信校验码是 *****，收到了'],
      ['尾号是8899的那张卡解绑了吗', '尾号是****的那张卡解绑了吗'],
      ['身份证后四位：3456', '身份证后四位：****'],
      ['后4位 0371', '后4位 ****'],
      ['密碼４８２１', '密碼****'],
      [' 4321 ', ' **** '],
      // Amounts, years, sizes and short numbers carry no such word.
      ['2025年开的1000M宽带，每月交1000元', '2025年开的1000M宽带，每月交1000元'],
      ['第2个', '第2个'],
      ['123', '123'],
    ];
    for (const [typed, shown] of cases) expect(maskText(typed), typed).toBe(shown);
  });

  it('hides codes typed in groups and numbers spelled in Chinese numerals, and leaves dates and amounts alone', () => {
    expect(maskText('验证码是 123 456')).toBe('验证码是 *** ***');
    expect(maskText('验证码12-34-56')).toBe('验证码**-**-**');
    expect(maskText('我的号码是一三八零零一三八零零零')).toBe('我的号码是***********');
    expect(maskText('验证码幺二三四五六')).toBe('验证码******');
    expect(maskText('2026-11-24 扣了10元，套餐129元')).toBe('2026-11-24 扣了10元，套餐129元');
    expect(maskText('退订三十五元的包')).toBe('退订三十五元的包');
  });
});
