import type { Peer } from "../../scenario.js";
import { HOUR } from "./scenario.js";

/**
 * The best hand-written equivalent: a cancellable sleep that registers its
 * wake-up in a set, and a cancel that clears every timer and wakes every
 * sleeper from that set — what a careful engineer writes without a library
 * (10,000 listeners on one AbortSignal, the obvious way, is several times slower).
 */
class Canceller {
  readonly #sleepers = new Set<{ timer: NodeJS.Timeout; wake: (error: Error) => void }>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.#sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: reject,
      };
      this.#sleepers.add(sleeper);
    });
  }

  cancel(): void {
    const error = new Error("cancelled");
    for (const sleeper of this.#sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake(error);
    }
    this.#sleepers.clear();
  }
}

const peer: Peer = async (n, meter) => {
  const canceller = new Canceller();
  let cleaned = 0;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      (async () => {
        try {
          await canceller.sleep(HOUR);
        } catch {
          // cancelled
        } finally {
          cleaned++;
        }
      })(),
    );
  }
  await new Promise((resolve) => setImmediate(resolve)); // everyone is asleep
  meter.start();
  canceller.cancel();
  await Promise.all(tasks);
  meter.stop();
  return { result: cleaned, note: "a hand-written cancellable sleep: a set of wake-ups, each with its own timer, cleared and rejected by cancel()" };
};
export default peer;
