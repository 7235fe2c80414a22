import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileUnsubscriptionInput } from '../../src/adapters/operator-backend.js';
import { AppError } from '../../src/errors.js';
import { lastCode } from '../support/app.js';
import { startBot, textOf, type RunningBot } from '../support/running-bot.js';

// The back end is down when the user confirms: the request waits in the filing outbox, is filed
// once the back end is back, and the receipt arrives in the chat on its own.
let bot: RunningBot;

beforeAll(async () => {
  bot = await startBot({ AGENTS: 'alice:alice-token-0123456789' });
});

afterAll(() => bot.stop());

describe('the filing outbox', () => {
  it('files a request confirmed during an outage once the back end is back, exactly once, and sends the receipt', async () => {
    const backend = bot.app.backend;
    const real = backend.fileUnsubscription.bind(backend);
    let down = true;
    backend.fileUnsubscription = async (input: FileUnsubscriptionInput) => {
      if (down) throw new AppError('backend.unavailable', { message: 'simulated outage' });
      return real(input);
    };

    const user = bot.client();
    await user.say('退订音乐会员');
    await user.say('13800138000');
    await user.say(await lastCode(bot.app, '13800138000'));
    const failed = await user.say('确认');
    expect(textOf(failed)).toContain(bot.t('file.failed'));
    expect(await backend.listRequests({ msisdn: '13800138000' })).toHaveLength(0);

    down = false;
    await bot.channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(bot.t('receipt.delayed'))), 20_000);
    const requests = await backend.listRequests({ msisdn: '13800138000' });
    expect(requests).toHaveLength(1);
    const receipt = user.unprompted().find((a) => (a.text ?? '').startsWith(bot.t('receipt.delayed')))!;
    expect(receipt.text).toContain(requests[0]!.ticket);

    // The user also says 重试: the same order, so nothing is filed twice.
    await user.say('重试');
    expect(await backend.listRequests({ msisdn: '13800138000' })).toHaveLength(1);
  }, 40_000);
});
