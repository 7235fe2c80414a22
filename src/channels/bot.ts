import {
  ActionTypes, ActivityHandler, ActivityTypes, CardFactory, MessageFactory, TurnContext, type Attachment,
  type Activity, type CardAction, type ConversationReference
} from 'botbuilder';
import type { Logger } from '../log.js';
import type { Reply, TurnOutput, TurnRunner } from '../runtime/turn-runner.js';

/** Channels known to render Adaptive Cards; elsewhere the same reply goes as plain text. */
const CARD_CHANNELS = new Set(['directline', 'webchat', 'msteams']);

/** An Adaptive Card of a warning or a receipt: a heading and one text block per line. */
function adaptiveCard(card: NonNullable<Reply['card']>, fallback: string): Attachment {
  return CardFactory.adaptiveCard({
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.3',
    fallbackText: fallback,
    body: [
      { type: 'TextBlock', text: card.title, weight: 'Bolder', size: 'Medium', wrap: true, color: card.kind === 'warning' ? 'Attention' : 'Good' },
      ...card.lines.map((line) => ({ type: 'TextBlock', text: line, wrap: true, spacing: 'Small' })),
    ],
  });
}

/**
 * Turns runtime replies into Bot Framework activities: suggested actions, the dialog state in
 * channelData, and on card-capable channels the warnings and receipts as Adaptive Cards (the
 * activity keeps the plain text as its summary for notifications and screen readers).
 */
export function toActivities(output: Pick<TurnOutput, 'replies' | 'state'>, channelId?: string): Partial<Activity>[] {
  return output.replies.map((reply: Reply) => {
    if (reply.card && channelId && CARD_CHANNELS.has(channelId)) {
      const activity: Partial<Activity> = MessageFactory.attachment(adaptiveCard(reply.card, reply.text));
      activity.summary = reply.text;
      activity.channelData = { tuiding: { state: output.state } };
      if (reply.choices.length > 0) activity.suggestedActions = toSuggested(reply).suggestedActions;
      return activity;
    }
    const activity: Partial<Activity> = reply.choices.length > 0 ? toSuggested(reply) : MessageFactory.text(reply.text);
    // Plain text: the replies' line breaks are meaningful, and markdown rendering would join them.
    activity.textFormat = 'plain';
    activity.channelData = { tuiding: { state: output.state } };
    return activity;
  });
}

/** A text activity with the reply's choices as suggested-action buttons. */
function toSuggested(reply: Reply): Partial<Activity> {
  return MessageFactory.suggestedActions(reply.choices.map((c): CardAction => (c.title === c.value
    ? { type: ActionTypes.ImBack, title: c.title, value: c.value }
    // The button shows its title in the chat but sends the value the NLU understands (e.g. English title, Chinese value).
    : { type: ActionTypes.MessageBack, title: c.title, text: c.value, displayText: c.title, value: c.value })), reply.text);
}

/** The text of a message activity: typed text, or the text of a button/card post-back. */
function textOf(activity: Activity): string | null {
  if (typeof activity.text === 'string' && activity.text.length > 0) return activity.text;
  const value = activity.value as unknown;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { text?: unknown }).text === 'string') return (value as { text: string }).text;
  if (activity.attachments && activity.attachments.length > 0) return null;
  return '';
}

/** The bot at the channel edge: adapts activities to the TurnRunner and back. */
export class TuidingBot extends ActivityHandler {
  constructor(
    runner: TurnRunner,
    private readonly logger: Logger,
    hooks: { onHandoffStatus(conversationId: string, state: 'accepted' | 'failed' | 'completed'): Promise<unknown> },
  ) {
    super();

    this.onMessage(async (context, next) => {
      const activity = context.activity;
      const text = textOf(activity);
      const reference = TurnContext.getConversationReference(activity) as ConversationReference;
      const output = text === null
        ? await runner.nonText(activity.conversation.id, activity.locale)
        : await runner.handleMessage({ conversationId: activity.conversation.id, activityId: activity.id, text, locale: activity.locale, reference });
      const activities = toActivities(output, activity.channelId);
      // No reply at all is right while an agent holds the chat (the bot stays silent).
      if (activities.length > 0) await context.sendActivities(activities);
      await next();
    });

    this.onMembersAdded(async (context, next) => {
      const botId = context.activity.recipient?.id;
      const joined = (context.activity.membersAdded ?? []).filter((m) => m.id !== botId);
      if (joined.length > 0) await context.sendActivities(toActivities(runner.welcome(context.activity.locale), context.activity.channelId));
      await next();
    });

    // An external agent hub reports on a chat it was handed (Bot Framework handoff protocol).
    this.onEvent(async (context, next) => {
      const activity = context.activity;
      const state = (activity.value as { state?: unknown } | undefined)?.state;
      if (activity.name === 'handoff.status' && (state === 'accepted' || state === 'failed' || state === 'completed')) {
        await hooks.onHandoffStatus(activity.conversation.id, state);
      } else {
        this.logger.debug('ignored event', { name: activity.name, conversationId: activity.conversation?.id });
      }
      await next();
    });

    this.onUnrecognizedActivityType(async (context, next) => {
      this.logger.debug('ignored activity', { type: context.activity.type, conversationId: context.activity.conversation?.id });
      await next();
    });
  }
}

export { ActivityTypes };
