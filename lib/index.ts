export { IroError, isIroError, type IroErrorCode } from './errors.js';
export { getNative, loadNative, probeCuda, VARIANTS, type Variant, type LoadedNative, type LoadAttempt, type LoadOptions, type CudaProbe } from './native.js';
export { getInfo, formatInfo, type IroInfo } from './info.js';
export { resolveThreads, DEFAULT_THREADS } from './threads.js';
export {
  forgeRandomModel, forgeInspectModel, tokenizeWithModel, detokenizeWithModel, sampleFromModel, resolveDims, DEFAULT_TINY_DIMS,
  type ForgeDims, type RandomModelOptions, type RandomModelInfo, type ForgeModelSummary, type ForgeSampleOptions, type ForgeSample,
} from './forge.js';
export { reviewPositivity, reviewPositivityDetail, UNFINISHED_PENALTY, type PositivityDetail } from './rewards.js';
export {
  generateReview, generateReviewCorpus, reviewPrompts, ReviewRng, REVIEW_PROMPT_OPENINGS, POSITIVE_CUES, NEGATIVE_CUES,
  type GeneratedReview, type ReviewCorpusOptions,
} from './task/reviews.js';
export { Engine, type EngineNative, type SearchDecodeOptions } from './engine.js';
export type * from './engine-types.js';
export {
  scoreValues, softmaxWeights, resample, topW, diverseTopW, groupBest, expandBeams, uniformOffsets, hugePageFloat32Array,
  type KernelDevice, type KernelOptions, type SparseFeaturesInput, type ValueNetParams, type ValueScores, type ResampleMethod,
  type ResampleArgs, type SamplingOptions as KernelSamplingOptions, type ExpandBeamsArgs, type BeamExpansionResult,
} from './kernels.js';
export {
  ValueFunction,
  ValueEnsemble,
  vocabOfModelFile,
  featurizeStates,
  type VocabInfo,
  type VocabSource,
  type ValueRow,
  type ValueDatasetInput,
  type ValueState,
  type FeaturizerOptions,
  type ValueTrainOptions,
  type ValueTrainProgress,
  type ValueTrainReport,
  type ValueEvaluation,
  type PrefixFraction,
  type ValueFunctionInfo,
  type SparseFeatureRows,
  type ValueEnsembleMember,
  type ValueEnsembleScores,
} from './value.js';
export {
  SEARCH_DEFAULTS, resolveSearchOptions,
  type SearchOptions, type SearchResult, type SearchCandidate, type SearchStats, type SearchChunk, type SearchValue,
  type SearchStrategy, type SearchRerank, type SearchValueFunction,
} from './search.js';
export { scoreRewards, type Reward, type RewardFn, type BatchReward, type RewardItem, type RewardOutcome } from './reward-scoring.js';
export { httpReward, type HttpRewardOptions } from './reward-http.js';
export { loadPromptsFile, parsePromptsJsonl, type PromptRecord } from './prompts.js';
export { IroTrainer, reweight, type IroTrainerOptions, type IroBackend, type Rollout, type RunManifest, type IterationRecord, type IterationMetrics, type IroProgress } from './trainer.js';
export {
  learnVocab, forgeModel, normalizeCorpus,
  type ForgeOptions, type ForgeProgress, type ForgeReport, type ForgeEpoch, type LearnedVocab,
} from './forge.js';
export {
  DEFAULT_MODEL_FILE, DEFAULT_MODEL_RECIPE, defaultModelPath, readModelManifest, measureBasePositivity, forgeDefaultModel, sha256File,
  type ModelManifest, type ModelManifestEntry, type PositivityStats, type ForgeDefaultOptions,
} from './forge-default.js';
export { engineBackend, DEFAULT_IRO_SEARCH, type IroSearchSettings, type EngineBackendOptions } from './iro-backend.js';
