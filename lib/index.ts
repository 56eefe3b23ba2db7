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
export { Engine, type EngineNative } from './engine.js';
export type * from './engine-types.js';
export {
  scoreValues, softmaxWeights, resample, topW, diverseTopW, groupBest, expandBeams, uniformOffsets,
  type KernelDevice, type KernelOptions, type SparseFeaturesInput, type ValueNetParams, type ValueScores, type ResampleMethod,
  type ResampleArgs, type SamplingOptions, type ExpandBeamsArgs, type BeamExpansionResult,
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
