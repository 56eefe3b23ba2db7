/**
 * The IRO loop's backend for the local llama.cpp engine: rollouts of π_{t-1} (plain sampling at
 * t = 1, value-guided chunk-level search with V_1..V_{t-1} after) and native value training.
 */
import type { Engine } from './engine.js';
import type { DecodeCandidate } from './engine-types.js';
import type { SearchOptions } from './search.js';
import type { IroBackend, Rollout, TrainedValue, ValueExample } from './trainer.js';
import { ValueFunction, type ValueTrainOptions } from './value.js';

/** Search settings of the rollouts after iteration 1 (defaults: DEFAULT_IRO_SEARCH, DESIGN.md §7). */
export type IroSearchSettings = Pick<SearchOptions, 'w' | 'k' | 'l' | 'maxTokens' | 'temperature' | 'topK' | 'topP' | 'minP' | 'strategy'>;

export const DEFAULT_IRO_SEARCH: Required<IroSearchSettings> = {
  w: 4, k: 4, l: 8, maxTokens: 48, temperature: 0.7, topK: 50, topP: 1, minP: 0, strategy: 'diverse',
};

export interface EngineBackendOptions {
  search?: IroSearchSettings;
  /** Options of ValueFunction.train (seed, iteration, beta, warmStart, signal are set by the loop). */
  valueOptions?: Omit<ValueTrainOptions, 'seed' | 'iteration' | 'beta' | 'warmStart' | 'signal' | 'onProgress'>;
}

export function engineBackend(engine: Engine, options: EngineBackendOptions = {}): IroBackend<ValueFunction> {
  const search = { ...DEFAULT_IRO_SEARCH, ...options.search };
  const toRollout = (promptIndex: number, prompt: string, promptTokens: number[], c: DecodeCandidate, candidate: number): Rollout => ({
    promptIndex, prompt, candidate, response: c.text, promptTokens, responseTokens: c.tokens, finished: c.finishReason === 'stop',
  });
  return {
    async rollouts({ prompts, firstPromptIndex, values, perPrompt, seed, signal, onProgress }) {
      if (values.length > 0) {
        // π_{t-1} is the guided search; its final candidates, best value first, are its samples.
        // More rounds (other seeds) when more rollouts per prompt are asked for than it returns.
        const out: Rollout[][] = prompts.map(() => []);
        for (let round = 0; out.some((o) => o.length < perPrompt); round++) {
          const results = await engine.decode({
            prompts, values: values.map((v) => ({ vf: v.value, beta: v.beta })), w: search.w, k: search.k, l: search.l,
            maxTokens: search.maxTokens, temperature: search.temperature, topK: search.topK, topP: search.topP, minP: search.minP,
            strategy: search.strategy, rerank: 'value', seed: seed + round * 7919, signal,
          });
          results.forEach((r, p) => {
            const promptTokens = engine.tokenize(prompts[p]!, { addSpecial: true });
            for (const c of r.candidates) {
              if (out[p]!.length >= perPrompt) break;
              out[p]!.push({ promptIndex: firstPromptIndex + p, prompt: prompts[p]!, candidate: out[p]!.length, response: c.text, promptTokens, responseTokens: c.tokens, finished: c.finished });
            }
          });
          onProgress?.(out.filter((o) => o.length >= perPrompt).length, prompts.length);
          if (round > 16) break; // a search that keeps returning nothing must not loop forever
        }
        return out.flat();
      }
      const results = await engine.decodeBatch(prompts, {
        mode: 'sample', n: perPrompt, maxTokens: search.maxTokens, temperature: search.temperature, topK: search.topK,
        topP: search.topP, minP: search.minP, seed, firstRequestIndex: firstPromptIndex, signal,
      });
      onProgress?.(prompts.length, prompts.length);
      const perPromptRollouts = results.map((r, p) => {
        const promptTokens = engine.tokenize(prompts[p]!, { addSpecial: true });
        return r.candidates.map((c, i) => toRollout(firstPromptIndex + p, prompts[p]!, promptTokens, c, i));
      });
      return perPromptRollouts.flat();
    },

    async trainValue({ examples, iteration, beta, seed, warmStart, signal, onProgress }) {
      const rows = examples.map((e: ValueExample) => ({ prompt: e.promptTokens, response: e.responseTokens, reward: e.reward, weight: e.weight, ended: e.ended }));
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
