/**
 * The default task: short English movie reviews. A deterministic, seeded generator of a review
 * corpus (mixed sentiment, coherent within a review) and the task prompts (review openings).
 *
 * A review is "Review: " + an opening sentence that introduces the film + 2 to 4 sentences about
 * acting, plot, music, visuals, pacing or dialogue + a verdict sentence. Each review draws a
 * polarity (positive with probability 1/2); the opening leans that way with probability 0.75, each
 * body sentence with probability 0.8 (some body sentences are mixed: "X is good, but Y is bad"),
 * and the verdict with probability 0.9.
 */

/** Small seeded PRNG (32-bit state, xorshift-multiply mixing). Deterministic across platforms. */
export class ReviewRng {
  private state: number;
  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 4; i++) this.next();
  }
  /** Uniform 32-bit integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
}

type Polarity = 1 | -1;

// ---- word lists ---------------------------------------------------------------------------
const POS_ADJ = [
  'brilliant', 'wonderful', 'charming', 'moving', 'gripping', 'delightful', 'stunning', 'superb', 'clever', 'warm',
  'beautiful', 'memorable', 'excellent', 'powerful', 'fresh', 'funny', 'touching', 'thrilling', 'elegant', 'inspired',
  'confident', 'lovely', 'rich', 'sharp', 'tender', 'joyful', 'haunting', 'graceful', 'vivid', 'satisfying',
] as const;
const NEG_ADJ = [
  'dull', 'boring', 'clumsy', 'tedious', 'flat', 'lifeless', 'messy', 'bland', 'awkward', 'weak',
  'predictable', 'forgettable', 'tired', 'shallow', 'confusing', 'painful', 'lazy', 'stiff', 'hollow', 'silly',
  'sloppy', 'muddled', 'cheap', 'grating', 'joyless', 'sluggish', 'wooden', 'empty', 'dreary', 'disappointing',
] as const;
const POS_ADV = ['truly', 'really', 'wonderfully', 'remarkably', 'genuinely', 'quietly', 'often', 'simply'] as const;
const NEG_ADV = ['painfully', 'really', 'oddly', 'strangely', 'simply', 'often', 'mostly', 'frankly'] as const;
const GENRES = ['comedy', 'drama', 'thriller', 'romance', 'western', 'musical', 'mystery', 'war film', 'horror film', 'family film', 'crime story', 'science fiction film'] as const;
const FIRST = ['Anna', 'Maria', 'James', 'Tom', 'Lena', 'David', 'Sofia', 'Peter', 'Clara', 'Marcus', 'Rosa', 'Henry', 'Nina', 'Oscar', 'Julia', 'Victor'] as const;
const LAST = ['Hart', 'Cole', 'Reyes', 'Moreau', 'Lind', 'Baker', 'Novak', 'Stone', 'Grant', 'Silva', 'Weber', 'Quinn'] as const;
const ROLES = ['detective', 'teacher', 'farmer', 'soldier', 'singer', 'doctor', 'widow', 'pilot', 'thief', 'lawyer', 'young mother', 'old sailor', 'painter', 'boxer'] as const;
const PLACES = ['a small town', 'a quiet village', 'the big city', 'a lonely island', 'an old hotel', 'a farm', 'a mountain road', 'a busy hospital', 'a coastal town', 'the desert'] as const;
const GOALS = [
  'tries to find a lost brother', 'wants to win one last race', 'must save the family farm', 'falls in love with a stranger',
  'searches for the truth about a murder', 'returns home after many years', 'plans a daring escape', 'fights to keep a promise',
  'starts a new life', 'hides a dark secret',
] as const;
const ASPECTS = ['acting', 'plot', 'music', 'score', 'script', 'dialogue', 'pacing', 'camera work', 'story', 'direction', 'ending', 'cast', 'humor', 'soundtrack'] as const;
const TITLE_A = ['Silent', 'Golden', 'Last', 'Broken', 'Hidden', 'Distant', 'Crimson', 'Long', 'Winter', 'Summer', 'Northern', 'Quiet'] as const;
const TITLE_B = ['River', 'Road', 'Harbor', 'Garden', 'Sky', 'Promise', 'Light', 'Shadow', 'House', 'Station', 'Letter', 'Song'] as const;

const POS_PLOT = ['keeps me guessing until the last scene', 'builds to a moving finale', 'moves with real purpose', 'balances humor and heart', 'never loses its way'] as const;
const NEG_PLOT = ['falls apart in the second half', 'drags on for far too long', 'goes nowhere', 'makes very little sense', 'loses its way after the first act'] as const;
const POS_MUSIC = ['lifts every scene', 'stays with me long after the credits', 'fits the mood perfectly', 'is a real highlight'] as const;
const NEG_MUSIC = ['drowns out the dialogue', 'feels cheap and loud', 'is a real weakness', 'grates in every scene'] as const;
const POS_VERDICT = [
  (r: ReviewRng) => `Overall, it is a ${r.pick(POS_ADJ)} film and I recommend it.`,
  (r: ReviewRng) => `In the end, this is one of the best ${plural(r.pick(GENRES))} of the year.`,
  (r: ReviewRng) => `My verdict: ${r.pick(POS_ADJ)} and well worth seeing.`,
  (r: ReviewRng) => `I loved it, and I will happily watch it again.`,
  (r: ReviewRng) => `Overall, a ${r.pick(POS_ADJ)} and ${r.pick(POS_ADJ)} piece of work.`,
] as const;
const NEG_VERDICT = [
  (r: ReviewRng) => `Overall, it is a ${r.pick(NEG_ADJ)} film and I cannot recommend it.`,
  (r: ReviewRng) => `In the end, this is one of the worst ${plural(r.pick(GENRES))} of the year.`,
  (r: ReviewRng) => `My verdict: ${r.pick(NEG_ADJ)} and not worth seeing.`,
  (r: ReviewRng) => `I hated it, and I will never watch it again.`,
  (r: ReviewRng) => `Overall, a ${r.pick(NEG_ADJ)} and ${r.pick(NEG_ADJ)} waste of time.`,
] as const;

const adj = (r: ReviewRng, p: Polarity) => (p > 0 ? r.pick(POS_ADJ) : r.pick(NEG_ADJ));
const adv = (r: ReviewRng, p: Polarity) => (p > 0 ? r.pick(POS_ADV) : r.pick(NEG_ADV));
const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');
const withArticle = (word: string) => `${article(word)} ${word}`;
const name = (r: ReviewRng) => `${r.pick(FIRST)} ${r.pick(LAST)}`;
const title = (r: ReviewRng) => `${r.pick(TITLE_A)} ${r.pick(TITLE_B)}`;
const plural = (g: string) => (g.endsWith('y') ? `${g.slice(0, -1)}ies` : `${g}s`);
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function opening(r: ReviewRng, p: Polarity): string {
  const a = adj(r, p);
  switch (r.int(6)) {
    case 0: return `The film ${title(r)} is ${article(a)} ${a} ${r.pick(GENRES)} from director ${name(r)}.`;
    case 1: return `The film follows ${withArticle(r.pick(ROLES))} in ${r.pick(PLACES)} who ${r.pick(GOALS)}, and the result is ${a}.`;
    case 2: return `This ${r.pick(GENRES)} stars ${name(r)} as ${withArticle(r.pick(ROLES))} who ${r.pick(GOALS)}.`;
    case 3: return `The movie ${title(r)} is set in ${r.pick(PLACES)}, and it is ${adv(r, p)} ${a}.`;
    case 4: return `I watched ${title(r)} last night, ${article(a)} ${a} ${r.pick(GENRES)} about ${withArticle(r.pick(ROLES))}.`;
    default: return `The story of ${title(r)} takes place in ${r.pick(PLACES)}, where ${withArticle(r.pick(ROLES))} ${r.pick(GOALS)}.`;
  }
}

function body(r: ReviewRng, p: Polarity): string {
  const a = adj(r, p);
  const aspect = r.pick(ASPECTS);
  switch (r.int(9)) {
    case 0: return `The ${aspect} is ${adv(r, p)} ${a}.`;
    case 1: return `${name(r)} gives ${article(a)} ${a} performance as the ${r.pick(ROLES)}.`;
    case 2: return `The plot ${p > 0 ? r.pick(POS_PLOT) : r.pick(NEG_PLOT)}.`;
    case 3: return `The music ${p > 0 ? r.pick(POS_MUSIC) : r.pick(NEG_MUSIC)}.`;
    case 4: return p > 0 ? `The ${aspect} is never ${r.pick(NEG_ADJ)}.` : `The ${aspect} is never ${r.pick(POS_ADJ)}.`;
    case 5: {
      // A mixed sentence: the clause after "but" carries the sentence's lean.
      const other = r.pick(ASPECTS.filter((x) => x !== aspect));
      return `The ${other} is ${adj(r, p > 0 ? -1 : 1)}, but the ${aspect} is ${a}.`;
    }
    case 6: return `I ${p > 0 ? 'loved' : 'hated'} the way the ${aspect} ${p > 0 ? 'surprised' : 'bored'} me.`;
    case 7: return `Even the ${aspect} feels ${a}.`;
    default: return `${cap(article(a))} ${a} ${aspect} makes the ${r.pick(['second half', 'first act', 'final scene', 'middle part'])} ${p > 0 ? 'a joy' : 'a chore'}.`;
  }
}

export interface GeneratedReview {
  text: string;
  /** The review's latent polarity (+1 positive, -1 negative). */
  polarity: Polarity;
}

/** One review (deterministic in rng state). */
export function generateReview(r: ReviewRng): GeneratedReview {
  const polarity: Polarity = r.chance(0.5) ? 1 : -1;
  const lean = (p: number): Polarity => (r.chance(p) ? polarity : ((-polarity) as Polarity));
  const sentences = [opening(r, lean(0.75))];
  const n = 2 + r.int(3);
  for (let i = 0; i < n; i++) sentences.push(body(r, lean(0.8)));
  const v = lean(0.9);
  sentences.push((v > 0 ? r.pick(POS_VERDICT) : r.pick(NEG_VERDICT))(r));
  return { text: `Review: ${sentences.join(' ')}`, polarity };
}

export interface ReviewCorpusOptions {
  /** Number of reviews. */
  count: number;
  seed: number;
}

/** A corpus of `count` reviews; the same seed always gives the same corpus. */
export function generateReviewCorpus(options: ReviewCorpusOptions): GeneratedReview[] {
  if (!Number.isInteger(options.count) || options.count < 1) throw new RangeError('count must be a positive integer');
  const r = new ReviewRng(options.seed);
  const out: GeneratedReview[] = [];
  for (let i = 0; i < options.count; i++) out.push(generateReview(r));
  return out;
}

/** Review openings used as task prompts (neutral: they come before any sentiment cue). */
export const REVIEW_PROMPT_OPENINGS = [
  'Review: The film',
  'Review: The movie',
  'Review: This',
  'Review: I watched',
  'Review: The story of',
  'Review: The film follows',
] as const;

/** `count` task prompts, cycling through the openings in a seeded order. */
export function reviewPrompts(count: number, seed = 0): string[] {
  const r = new ReviewRng(seed ^ 0x5eed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(r.pick(REVIEW_PROMPT_OPENINGS));
  return out;
}

/** The sentiment lexicon used by reviewPositivity (exported for tests and documentation). */
export const POSITIVE_CUES: readonly string[] = [...POS_ADJ, 'best', 'loved', 'recommend', 'joy', 'surprised', 'highlight', 'worth', 'happily', 'perfectly', 'purpose', 'heart', 'moving'];
export const NEGATIVE_CUES: readonly string[] = [...NEG_ADJ, 'worst', 'hated', 'waste', 'chore', 'bored', 'weakness', 'nowhere', 'drags', 'apart', 'loses', 'drowns', 'grates'];
