// The two-phase producer: a file is opened in the setup phase, and its lines
// are read only as the consumer asks for them. Closing the stream (here by
// leaving the loop early) cancels the producer and waits until the file is closed.
// Run it with `npx --yes pnpm@12 tsx examples/producer.ts`; docs/producer.md explains it.
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { produce, type ProducerStream } from "@quartet/core";

// #region lines
/** The lines of a file. Opening it is the setup phase: a missing file makes produce() throw. */
function linesOf(path: string): Promise<ProducerStream<string>> {
  return produce<string>(
    async (ctx) => {
      const file = await open(path); // setup
      console.log(`producer: opened ${path}`);
      try {
        await ctx.started(); // setup done; wait for the first request
        let number = 0;
        for await (const line of file.readLines()) {
          console.log(`producer: read line ${++number}`);
          await ctx.send(line); // returns when the consumer asks for the next line
        }
      } finally {
        await file.close(); // runs however the stream ends
        console.log("producer: closed the file");
      }
    },
    { name: "linesOf" },
  );
}
// #endregion

const dir = await mkdtemp(join(tmpdir(), "quartet-producer-"));
const path = join(dir, "poem.txt");
await writeFile(path, ["first line", "second line", "third line", "fourth line", "fifth line"].join("\n"));

try {
  // #region consume
  console.log("consumer: taking two lines");
  {
    await using lines = await linesOf(path);
    console.log("consumer: the file is open; nothing has been read yet");
    let taken = 0;
    for await (const line of lines) {
      console.log(`consumer: got "${line}"`);
      if (++taken === 2) break; // cancels the producer and waits for its cleanup
    }
    console.log("consumer: left the loop");
  }

  console.log("consumer: opening a file that does not exist");
  try {
    await linesOf(join(dir, "missing.txt"));
  } catch (error) {
    console.log(`consumer: produce() threw ${(error as NodeJS.ErrnoException).code}`);
  }
  // #endregion
} finally {
  await rm(dir, { recursive: true, force: true });
}
