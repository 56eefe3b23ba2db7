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
export {
  learnVocab, forgeModel, normalizeCorpus,
  type ForgeOptions, type ForgeProgress, type ForgeReport, type ForgeEpoch, type LearnedVocab,
} from './forge.js';
export {
  DEFAULT_MODEL_FILE, DEFAULT_MODEL_RECIPE, defaultModelPath, readModelManifest, measureBasePositivity, forgeDefaultModel, sha256File,
  type ModelManifest, type ModelManifestEntry, type PositivityStats, type ForgeDefaultOptions,
} from './forge-default.js';
