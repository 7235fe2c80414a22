import { ActivityTypes, CloudAdapter, type Activity, type ResourceResponse, type TurnContext } from 'botbuilder';
import type { OutgoingActivity, RemoteConversations } from './reply-thread.js';

/**
 * CloudAdapter that hands a turn's replies to the reply thread in one request.
 *
 * CloudAdapter sends a turn's activities one connector client call at a time, awaiting each
 * before the next. Through the reply thread (reply-thread.ts) each call comes back through the
 * event loop, and under load that wait is most of a turn's latency (about 15–20 ms at the bench's
 * load), so a turn with two replies waited twice. Here the turn's messages go to the thread
 * together and the thread sends them as CloudAdapter would: in order, each once the one before was
 * accepted, with the same connector client calls. Anything else CloudAdapter treats specially
 * (delays, invoke responses, traces) and a connector client that is not the reply thread's go the
 * usual way.
 */
export class ReplyBatchingAdapter extends CloudAdapter {
  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const conversations = (context?.turnState.get(this.ConnectorClientKey) as { conversations?: Partial<RemoteConversations> } | undefined)?.conversations;
    if (!conversations?.sendAll || !Array.isArray(activities) || activities.length < 2 || !activities.every(isPlain)) {
      return super.sendActivities(context, activities);
    }
    const outgoing: OutgoingActivity[] = activities.map((activity) => {
      // As CloudAdapter does: the channel gives the id.
      delete activity.id;
      return { conversationId: activity.conversation!.id, ...(activity.replyToId ? { replyToId: activity.replyToId } : {}), activity };
    });
    const answers = await conversations.sendAll(outgoing);
    return answers.map((answer) => ({ id: answer?.id ?? '' }));
  }
}

/** An activity CloudAdapter would only send (not wait on, keep for the invoke response or drop). */
function isPlain(activity: Partial<Activity>): boolean {
  return activity.type !== 'delay' && activity.type !== ActivityTypes.InvokeResponse && activity.type !== ActivityTypes.Trace
    && typeof activity.conversation?.id === 'string';
}
