/**
 * Chains stopped at their limit as needs-you items: the agent that was not run, who started the
 * chain and with what, which limit it hit. Continue lets it go on (what was stopped runs); Dismiss
 * leaves it stopped. Either takes it off the list here at once, and in every other tab when the
 * `chain.continued` or `chain.dismissed` entry arrives.
 */
import { useQueryClient } from '@tanstack/react-query';
import type { ChainSummary } from '@gantry/protocol';
import { request, segment } from '../../api/client.ts';
import { keys, useStoppedChains } from '../../api/resources.ts';
import { announce } from '../../ui/announcer.tsx';
import type { NeedItem, NeedSource } from './needs.ts';

const rootLabels: Record<ChainSummary['root']['kind'], string> = {
  message: 'a message',
  assignment: 'an assignment',
  task: 'a task',
  trigger: 'an unattended trigger',
};

/** "6 runs deep" or "24 runs": the limit the chain hit, as people say it. */
export function limitText(chain: ChainSummary): string {
  return chain.stop?.limit === 'depth'
    ? `${chain.maxDepth} runs deep`
    : `${chain.maxRuns} ${chain.maxRuns === 1 ? 'run' : 'runs'}`;
}

export function useChainNeeds(): NeedSource {
  const client = useQueryClient();
  const chains = useStoppedChains();

  const act = async (chain: ChainSummary, action: 'continue' | 'dismiss') => {
    await request(`/v1/chains/${segment(chain.id)}/${action}`, { method: 'POST', body: {} });
    announce(action === 'continue' ? `Chain ${chain.id} goes on` : `Dismissed: chain ${chain.id}`);
    client.setQueryData<ChainSummary[]>([...keys.chains, 'stopped'], (list) =>
      list?.filter((c) => c.id !== chain.id),
    );
    void client.invalidateQueries({ queryKey: keys.chains });
  };

  const items = (chains.data ?? []).flatMap((chain): NeedItem[] => {
    const stop = chain.stop;
    if (!stop) return [];
    const waiting = stop.waiting;
    return [
      {
        id: `chain:${chain.id}`,
        kind: 'chain_stopped',
        kindLabel: 'Chain stopped',
        createdAt: stop.at,
        agent: stop.agent,
        title: chain.head ?? `Chain ${chain.id}`,
        details: [
          { label: 'Agent', value: `${stop.agent.name} was not run` },
          {
            label: 'Started by',
            value: `${chain.person ? chain.person.name : 'nobody'} with ${rootLabels[chain.root.kind]}`,
          },
          { label: 'Limit', value: `${limitText(chain)} (${chain.runs} made)` },
          ...(waiting > 0
            ? [{ label: 'Waiting', value: `${waiting} ${waiting === 1 ? 'run' : 'runs'} to go on` }]
            : []),
        ],
        href: `/assignments/chains/${encodeURIComponent(chain.id)}`,
        actions: [
          { label: 'Continue', tone: 'primary', shortcut: 'a', run: () => act(chain, 'continue') },
          { label: 'Dismiss', tone: 'plain', shortcut: 'd', run: () => act(chain, 'dismiss') },
        ],
      },
    ];
  });
  return { items, loading: chains.isPending, error: chains.error };
}
