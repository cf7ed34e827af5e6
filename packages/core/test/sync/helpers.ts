// Shared by the tests of the sync primitives.
import { taskGroup } from "../../src/index.js";

/** Runs `fn` as a task of its own, named `name`, and returns its result; an error it throws is thrown here. */
export async function inTask<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  let result: T | undefined;
  await taskGroup(async (tg) => {
    tg.spawn(
      async () => {
        result = await fn();
      },
      { name },
    );
  });
  return result as T;
}
