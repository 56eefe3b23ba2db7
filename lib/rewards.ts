/**
 * Built-in rewards of the demo task. `reviewPositivity` scores how positive a generated review
 * continuation is, from a fixed sentiment lexicon.
 */
import { NEGATIVE_CUES, POSITIVE_CUES } from './task/reviews.js';

const POSITIVE = new Set(POSITIVE_CUES);
const NEGATIVE = new Set(NEGATIVE_CUES);
const NEGATORS = new Set(['not', 'never', 'cannot', 'no', "n't", 'hardly']);

/** Subtracted (then clamped to [-1, 1]) when the response never ends. */
export const UNFINISHED_PENALTY = 0.5;

export interface PositivityDetail {
  /** Final reward in [-1, 1]. */
  score: number;
  positive: number;
  negative: number;
  /** The response ends: its last non-space character closes a sentence (. ! ?). */
  ended: boolean;
}

function words(text: string): string[] {
  return text.toLowerCase().replace(/n't\b/g, " n't").match(/[a-z']+|n't/g) ?? [];
}

/**
 * Lexicon score of a response: each positive cue word counts +1 and each negative one -1, with
 * the sign flipped when one of the two preceding words is a negator (not, never, cannot, no, n't,
 * hardly); the score is (P - N) / (P + N + 1), in (-1, 1). A response that never ends (its last
 * non-space character is not . ! or ?, e.g. cut off by a token limit) loses UNFINISHED_PENALTY.
 * The prompt is not scored (it only supplies context).
 */
export function reviewPositivityDetail(_prompt: string, response: string): PositivityDetail {
  const w = words(response);
  let positive = 0;
  let negative = 0;
  for (let i = 0; i < w.length; i++) {
    const word = w[i]!;
    let sign = POSITIVE.has(word) ? 1 : NEGATIVE.has(word) ? -1 : 0;
    if (sign === 0) continue;
    if (NEGATORS.has(w[i - 1] ?? '') || NEGATORS.has(w[i - 2] ?? '')) sign = -sign;
    if (sign > 0) positive++;
    else negative++;
  }
  const ended = /[.!?]["')\]]?\s*$/.test(response);
  let score = (positive - negative) / (positive + negative + 1);
  if (!ended) score -= UNFINISHED_PENALTY;
  score = Math.max(-1, Math.min(1, score));
  return { score, positive, negative, ended };
}

/** The demo reward: review positivity in [-1, 1] (see reviewPositivityDetail). */
export function reviewPositivity(prompt: string, response: string): number {
  return reviewPositivityDetail(prompt, response).score;
}
