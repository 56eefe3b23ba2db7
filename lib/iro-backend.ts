/**
 * The IRO loop's backend for the local llama.cpp engine: rollouts of π_{t-1} (plain sampling at
 * t = 1, value-guided chunk-level search with V_1..V_{t-1} after) and native value training.
 */
import type { Engine } from './engine.js';
import type { DecodeCandidate } from './engine-types.js';
import type { IroBackend, Rollout, TrainedValue, ValueExample } from './trainer.js';
import { ValueFunction, type ValueTrainOptions } from './value.js';

/** Search settings of the rollouts after iteration 1 (DESIGN.md §7 defaults). */
export interface IroSearchSettings {
  w?: number;
  k?: number;
  l?: number;
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  strategy?: 'diverse' | 'topw' | 'group' | 'softmax';
}

export const DEFAULT_IRO_SEARCH: Required<IroSearchSettings> = {
  w: 4, k: 4, l: 8, maxTokens: 48, temperature: 0.7, topK: 50, topP: 1, minP: 0, strategy: 'diverse',
};

export interface EngineBackendOptions {
  search?: IroSearchSettings;
  /** Options of ValueFunction.train (seed, iteration, beta, warmStart, signal are set by the loop). */
  valueOptions?: Omit<ValueTrainOptions, 'seed' | 'iteration' | 'beta' | 'warmStart' | 'signal' | 'onProgress'>;
}

type GuidedDecode = (engine: Engine, args: {
  prompt: string; requestIndex: number; seed: number; values: { vf: ValueFunction; beta: number }[]; search: Required<IroSearchSettings>; signal?: AbortSignal;
}) => Promise<DecodeCandidate[]>;

export function engineBackend(engine: Engine, options: EngineBackendOptions & { guidedDecode: GuidedDecode }): IroBackend<ValueFunction> {
  const search = { ...DEFAULT_IRO_SEARCH, ...options.search };
  const toRollout = (promptIndex: number, prompt: string, promptTokens: number[], c: DecodeCandidate, candidate: number): Rollout => ({
    promptIndex, prompt, candidate, response: c.text, promptTokens, responseTokens: c.tokens, finished: c.finishReason === 'stop',
  });
  return {
    async rollouts({ prompts, firstPromptIndex, values, perPrompt, seed, signal, onProgress }) {
      let done = 0;
      const perPromptRollouts = await Promise.all(prompts.map(async (prompt, p) => {
        const promptIndex = firstPromptIndex + p;
        const promptTokens = engine.tokenize(prompt, { addSpecial: true });
        let cands: DecodeCandidate[];
        if (values.length === 0) {
          const r = await engine.decode({
            prompt, mode: 'sample', n: perPrompt, maxTokens: search.maxTokens, temperature: search.temperature, topK: search.topK,
            topP: search.topP, minP: search.minP, seed, requestIndex: promptIndex, signal,
          });
          cands = r.candidates;
        } else {
          // π_{t-1} is the guided search: its kept beams are its samples; more searches (other
          // request keys) when more rollouts per prompt are asked for than beams are kept.
          cands = [];
          for (let round = 0; cands.length < perPrompt; round++) {
            const got = await options.guidedDecode(engine, {
              prompt, requestIndex: promptIndex * 1024 + round, seed,
              values: values.map((v) => ({ vf: v.value, beta: v.beta })), search, signal,
            });
            if (got.length === 0) break;
            cands.push(...got);
          }
          cands = cands.slice(0, perPrompt);
        }
        onProgress?.(++done, prompts.length);
        return cands.map((c, i) => toRollout(promptIndex, prompt, promptTokens, c, i));
      }));
      return perPromptRollouts.flat();
    },

    async trainValue({ examples, iteration, beta, seed, warmStart, signal, onProgress }) {
      const rows = examples.map((e: ValueExample) => ({ prompt: e.promptTokens, response: e.responseTokens, reward: e.reward, weight: e.weight }));
      const vf = await ValueFunction.train(engine, rows, {
        ...options.valueOptions, seed, iteration, beta, warmStart, signal,
        onProgress: onProgress ? (p) => onProgress(p.epoch, p.maxEpochs) : undefined,
      });
      return vf satisfies TrainedValue;
    },

    async loadValue(file) {
      return ValueFunction.load(file, { vocab: engine });
    },
  };
}
