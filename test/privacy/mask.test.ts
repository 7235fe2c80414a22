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
    expect(maskText('验证码1234')).toBe('验证码****');
    expect(maskText('短信校验码是 90817，收到了')).toBe('短信校验码是 *****，收到了');
    expect(maskText('尾号是8899的那张卡解绑了吗')).toBe('尾号是****的那张卡解绑了吗');
    expect(maskText('身份证后四位：3456')).toBe('身份证后四位：****');
    expect(maskText('后4位 0371')).toBe('后4位 ****');
    expect(maskText('密碼４８２１')).toBe('密碼****');
    expect(maskText(' 4321 ')).toBe(' **** ');
    // Amounts, years, sizes and short numbers carry no such word.
    expect(maskText('2025年开的1000M宽带，每月交1000元')).toBe('2025年开的1000M宽带，每月交1000元');
    expect(maskText('第2个')).toBe('第2个');
    expect(maskText('123')).toBe('123');
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
