/**
 * `retry`: call a function again when it fails, with exponential backoff on
 * the runtime clock — p-retry's job, cancellable at every wait.
 *
 * @module
 */

import { isCancelled } from "./core/errors.js";
import { describe, requireBoolean, requireDuration, requireFunction, requireOptionalObject } from "./core/validate.js";
import { sleep } from "./sleep.js";

/**
 * Options of `retry`.
 *
 * @example
 * ```ts
 * import { retry, type RetryOptions } from "@quartet/core";
 *
 * const patient: RetryOptions = { attempts: 5, delay: 200, maxDelay: 2000, jitter: true };
 * const answer = await retry(async () => 42, patient);
 * ```
 */
export interface RetryOptions {
  /** How many times to call `fn` in all: a positive integer or `Infinity`. Default 3. */
  attempts?: number;
  /** Milliseconds to wait after the first failure. Default 100. */
  delay?: number;
  /** What each wait is multiplied by after the next failure: a finite number ≥ 1 (1 keeps the delay constant). Default 2. */
  factor?: number;
  /** The longest wait, in milliseconds. Default `Infinity`. */
  maxDelay?: number;
  /** With `true`, each wait is a random time between 0 and the computed delay ("full jitter"), so that clients that failed together do not retry together. Default `false`. */
  jitter?: boolean;
  /**
   * Whether to retry after `error`, the failure of attempt `attempt`; without
   * it every failure is retried (except a cancellation, which never is, and is
   * never passed here). An error it throws is thrown by `retry`.
   */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, with the failure, the attempt that failed, and the milliseconds it will wait: for logging. An error it throws is thrown by `retry`. */
  onRetry?: (error: unknown, attempt: number, delay: number) => void;
}

/**
 * Calls `fn(attempt)` (attempt 1, 2, …) until it returns, up to `attempts`
 * times (default 3), waiting between attempts: `delay` (default 100 ms), then
 * `factor` (default 2) times longer after each failure, at most `maxDelay`,
 * randomized between 0 and that with `jitter`. Resolves with what `fn`
 * returns. When attempts run out, or `retryIf` says not to retry, the last
 * failure is thrown as it is.
 *
 * The waits sleep on the runtime clock (a `MockClock` test takes no real
 * time) and are cancellable like any sleep. A `Cancelled` is never retried:
 * when the scope around `retry` is cancelled — by a deadline, a failing
 * sibling, a client going away — it stops at once, mid-attempt or mid-wait.
 * So `failAfter(5000, () => retry(fetchUser))` gives up at 5 s whatever
 * attempt it is in, while a timeout per attempt goes inside:
 * `retry(() => failAfter(1000, fetchUser))` retries attempts that timed out.
 *
 * @example
 * ```ts
 * import { failAfter, retry } from "@quartet/core";
 *
 * let calls = 0;
 * async function flakyFetch(): Promise<string> {
 *   if (++calls < 3) throw new Error("503 Service Unavailable");
 *   return "ok";
 * }
 * const body = await failAfter(5000, () =>
 *   retry(flakyFetch, { attempts: 5, delay: 100, retryIf: (error) => (error as Error).message.startsWith("503") }),
 * );
 * console.log(body, calls); // "ok" 3 (after waiting 100 ms, then 200 ms)
 * ```
 *
 * @throws `TypeError` or `RangeError` for bad options, before the first attempt.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T> | T, options?: RetryOptions): Promise<T> {
  requireFunction(fn, "retry() fn");
  const { attempts, delay, factor, maxDelay, jitter, retryIf, onRetry } = retryOptions(options);
  let wait = delay;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (isCancelled(error) || attempt >= attempts) throw error;
      if (retryIf !== undefined && !retryIf(error, attempt)) throw error;
      const pause = jitter ? Math.random() * Math.min(wait, maxDelay) : Math.min(wait, maxDelay);
      onRetry?.(error, attempt, pause);
      await sleep(pause);
      wait *= factor;
    }
  }
}

function retryOptions(options: RetryOptions | undefined): Required<Omit<RetryOptions, "retryIf" | "onRetry">> & Pick<RetryOptions, "retryIf" | "onRetry"> {
  requireOptionalObject(options, "retry() options");
  const attempts = options?.attempts ?? 3;
  if (typeof attempts !== "number") throw new TypeError(`retry() attempts must be a number; got ${describe(attempts)}`);
  if (attempts !== Infinity && !(Number.isInteger(attempts) && attempts >= 1)) {
    throw new RangeError(`retry() attempts must be a positive integer or Infinity; got ${attempts}`);
  }
  const delay = options?.delay ?? 100;
  requireDuration(delay, "retry() delay");
  const factor = options?.factor ?? 2;
  if (typeof factor !== "number") throw new TypeError(`retry() factor must be a number; got ${describe(factor)}`);
  if (!(Number.isFinite(factor) && factor >= 1)) throw new RangeError(`retry() factor must be a finite number no less than 1; got ${factor}`);
  const maxDelay = options?.maxDelay ?? Infinity;
  requireDuration(maxDelay, "retry() maxDelay");
  const jitter = options?.jitter ?? false;
  requireBoolean(jitter, "retry() jitter");
  const retryIf = options?.retryIf;
  if (retryIf !== undefined) requireFunction(retryIf, "retry() retryIf");
  const onRetry = options?.onRetry;
  if (onRetry !== undefined) requireFunction(onRetry, "retry() onRetry");
  return { attempts, delay, factor, maxDelay, jitter, retryIf, onRetry };
}
