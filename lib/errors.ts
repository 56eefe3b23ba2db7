/** Stable error codes. A code never changes meaning; new ones may be added. */
export type IroErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'INVALID_GGUF'
  | 'UNSUPPORTED_MODEL'
  | 'VOCAB_MISMATCH'
  | 'CONTEXT_OVERFLOW'
  | 'TOO_MANY_SEQUENCES'
  | 'INVALID_ARGUMENT'
  | 'ABORTED'
  | 'DISPOSED'
  | 'REWARD_FAILED'
  | 'IO_ERROR'
  | 'NATIVE_LOAD_FAILED'
  | 'CUDA_ERROR'
  | 'OUT_OF_MEMORY'
  | 'INTERNAL';

/** Every error a user can cause reaches them as an IroError with a stable `code`. */
export class IroError extends Error {
  override readonly name = 'IroError';
  readonly code: IroErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: IroErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

export function isIroError(e: unknown, code?: IroErrorCode): e is IroError {
  return e instanceof IroError && (code === undefined || e.code === code);
}

/** Converts an error thrown by the native addon (a plain Error with `.code`) into an IroError. */
export function toIroError(e: unknown): unknown {
  if (e instanceof IroError) return e;
  if (e instanceof Error && (e as { iroNative?: boolean }).iroNative) {
    const code = (e as { code?: string }).code as IroErrorCode | undefined;
    return new IroError(code ?? 'INTERNAL', e.message);
  }
  return e;
}

/** Calls into the addon, rethrowing native failures as IroError. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toIroError(e);
  }
}

/** Awaits a native promise, rejecting with IroError on native failures. */
export async function awaitNative<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toIroError(e);
  }
}

export function invalidArgument(message: string): IroError {
  return new IroError('INVALID_ARGUMENT', message);
}

/** Throws ABORTED when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) throw new IroError('ABORTED', `${what} was aborted`, { cause: signal.reason });
}
