// The benchmark's workload: a seeded sequence of chat turns for one shop, mixing analytics, policy
// questions and small talk, with exact repeats and paraphrases of earlier questions in stated shares, so
// the caches get realistic chances. Every configuration gets the same sequence.
import { mulberry32 } from '../../infra/prng.ts';

/** What a turn of the workload is, for the per-kind figures. */
export type TurnKind = 'analytics' | 'knowledge' | 'small-talk' | 'repeat' | 'paraphrase';

export interface WorkloadTurn {
  kind: TurnKind;
  message: string;
}

/** The shares of the mix (they sum to 1). */
export const WORKLOAD_MIX: Record<TurnKind, number> = {
  analytics: 0.35,
  knowledge: 0.15,
  'small-talk': 0.1,
  repeat: 0.25,
  paraphrase: 0.15,
};

const METRICS = [
  ['revenue', 'How much revenue did we make', 'Show me revenue'],
  ['orders', 'How many orders did we get', 'Show me the number of orders'],
  ['units sold', 'How many units did we sell', 'Show me units sold'],
  ['average order value', 'What was the average order value', 'Show me the AOV'],
] as const;
const PERIODS = ['last week', 'last month', 'in March 2026', 'in Q1 2026', 'in 2025', 'yesterday', 'in February 2026', 'in Q4 2025', 'in January 2026', 'last year'];
const DIMENSIONS = ['', ' by category', ' by region', ' by channel'];
const TOPICS = [
  ['return policy', 'How do returns work', 'Tell me about returning an item'],
  ['shipping policy', 'How does shipping work', 'Tell me about delivery costs'],
  ['warranty', 'How does the warranty work', 'Tell me about the guarantee on products'],
  ['payment options', 'Which payment methods do you accept', 'Tell me how I can pay'],
  ['loyalty program', 'How does the loyalty program work', 'Tell me about reward points'],
  ['privacy policy', 'How do you handle my personal data', 'Tell me about data privacy'],
] as const;
const SMALL_TALK = ['Hi!', 'Hello! What can you do?', 'Thanks, that helps!', 'Good morning!', 'Who are you?'];

interface Asked {
  message: string;
  paraphrases: string[];
}

/** `n` turns for one configuration; the same seed gives the same turns. */
export function buildWorkload(n: number, seed = 42): WorkloadTurn[] {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const asked: Asked[] = [];
  const used = new Set<string>();
  const turns: WorkloadTurn[] = [];
  const kinds = Object.entries(WORKLOAD_MIX) as [TurnKind, number][];
  const freshAnalytics = (): Asked => {
    for (;;) {
      const [metric, how, show] = pick(METRICS);
      const period = pick(PERIODS);
      const dim = pick(DIMENSIONS);
      const message = `What was our ${metric} ${period}${dim}?`;
      if (used.has(message) && used.size < METRICS.length * PERIODS.length * DIMENSIONS.length) continue;
      used.add(message);
      return { message, paraphrases: [`${how} ${period}${dim}?`, `${show} ${period}${dim}, please.`] };
    }
  };
  const freshKnowledge = (): Asked => {
    const [topic, how, tell] = pick(TOPICS);
    return { message: `What is your ${topic}?`, paraphrases: [`${how}?`, `${tell}.`] };
  };
  while (turns.length < n) {
    let r = random();
    let kind: TurnKind = 'analytics';
    for (const [k, share] of kinds) {
      if ((r -= share) < 0) {
        kind = k;
        break;
      }
    }
    // Repeats and paraphrases need something asked before.
    if ((kind === 'repeat' || kind === 'paraphrase') && asked.length === 0) kind = 'analytics';
    if (kind === 'analytics' || kind === 'knowledge') {
      const q = kind === 'analytics' ? freshAnalytics() : freshKnowledge();
      asked.push(q);
      turns.push({ kind, message: q.message });
    } else if (kind === 'small-talk') {
      turns.push({ kind, message: pick(SMALL_TALK) });
    } else if (kind === 'repeat') {
      turns.push({ kind, message: pick(asked).message });
    } else {
      turns.push({ kind, message: pick(pick(asked).paraphrases) });
    }
  }
  return turns;
}
