/**
 * The baseline for `npm run bench`: a bare echo bot on the same stack as Tuiding (restify 12,
 * botbuilder CloudAdapter with no app id, an ActivityHandler, the same body and query parsers),
 * and nothing else: no NLU, no dialog, no store. Each message is answered with
 * channelData.bench.replies echo activities (default 1), so that a turn can have the same shape
 * as the bot's. GET /dev/sms answers like the embedded SMS outbox, so that a flow makes the same
 * requests against both. Run as a child process: PORT (default 0, printed), HOST (127.0.0.1).
 */
import type { AddressInfo } from 'node:net';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication, MessageFactory, type Activity } from 'botbuilder';
import restify from 'restify';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
adapter.onTurnError = async (context, error) => {
  process.stderr.write(`echo turn failed: ${String(error)}\n`);
  await context.sendActivity('error');
};

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      const wanted = Number((context.activity.channelData as { bench?: { replies?: number } } | undefined)?.bench?.replies ?? 1);
      const replies: Partial<Activity>[] = [];
      for (let i = 0; i < Math.max(1, Math.min(10, wanted)); i++) replies.push(MessageFactory.text(`echo: ${context.activity.text ?? ''}`));
      await context.sendActivities(replies);
      await next();
    });
  }
}
const bot = new EchoBot();

const server = restify.createServer({ name: 'echo', handleUncaughtExceptions: false });
server.use(restify.plugins.queryParser({ mapParams: false }));
server.use(restify.plugins.bodyParser({ maxBodySize: 262_144, mapParams: false, rejectUnknown: true }));
server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
  await adapter.process(req, res, (context) => bot.run(context));
});
server.get('/healthz', async (_req: restify.Request, res: restify.Response) => {
  res.send(200, { status: 'ok' });
});
server.get('/dev/sms', async (req: restify.Request, res: restify.Response) => {
  const msisdn = String((req.query as Record<string, unknown>).msisdn ?? '');
  res.send(200, { messages: [{ id: 'sms-1', msisdn, text: '【退订助手】验证码 123456，5分钟内有效。', sentAt: new Date().toISOString() }] });
});

server.listen(port, host, () => {
  process.stdout.write(`echo bot listening on ${(server.address() as AddressInfo).port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
