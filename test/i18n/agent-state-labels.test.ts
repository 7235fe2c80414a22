import { describe, expect, it } from 'vitest';
import { unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import { I18n } from '../../src/i18n/i18n.js';

interface Node { key: string; states: Record<string, Node> }

function leafNames(node: Node): string[] {
  const children = Object.values(node.states);
  return children.length === 0 ? [node.key] : children.flatMap(leafNames);
}

describe('agent console', () => {
  it('has a label in every locale for every step the dialog can be at', () => {
    const i18n = new I18n();
    const steps = leafNames(unsubscribeMachine.root as unknown as Node);
    expect(steps).toContain('awaitingCode');
    for (const locale of i18n.locales) {
      const missing = steps.filter((s) => i18n.t(`agent.state.${s}`, {}, locale) === `agent.state.${s}`);
      expect(missing, locale).toEqual([]);
    }
  });
});
