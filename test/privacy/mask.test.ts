import { describe, expect, it } from 'vitest';
import { maskText, maskValue } from '../../src/privacy/mask.js';

describe('masking', () => {
  it('hides a service password typed alone or inside a sentence, in any script around it', () => {
    for (const text of ['582947', '新密码是582947', '密碼：582947。', 'my new one is 582947!']) {
      expect(maskText(text)).not.toContain('582947');
      expect(maskText(text)).toContain('******');
    }
  });

  it('hides secrets inside structured fields', () => {
    expect(JSON.stringify(maskValue({ body: { newSecret: '582947', msisdn: '13800138000' } }))).toBe('{"body":{"newSecret":"******","msisdn":"138****8000"}}');
  });
});
