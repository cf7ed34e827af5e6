// The task tree of a running program: a thumbnail pipeline (a reader, resize
// workers sharing a CPU limiter, an uploader) printed with formatTaskTree()
// while it works. With debugging on, every blocked task says since when and
// from which line of this file it waits.
// Run it with `npx --yes pnpm@12 tsx examples/debugging/task-tree.ts`;
// docs/debugging.md shows its output.
import { CancelScope, CapacityLimiter, Event, now, openMemoryChannel, run, sleep, taskGroup } from "@quartet/core";
import { formatTaskTree } from "@quartet/core/lowlevel";

// #region program
const cpu = new CapacityLimiter(2, { name: "cpu" });

await run(
  async () => {
    const [sendFile, receiveFile] = openMemoryChannel<string>(2, { name: "files" });
    const [sendThumbnail, receiveThumbnail] = openMemoryChannel<string>(0, { name: "thumbnails" });
    const allUploaded = new Event({ name: "all uploaded" });
    await taskGroup(
      async (tg) => {
        tg.spawn(
          async () => {
            for (let i = 1; i <= 10; i++) await sendFile.send(`photo-${i}.jpg`);
          },
          { name: "reader" },
        );
        for (const name of ["resize-1", "resize-2", "resize-3"]) {
          tg.spawn(
            async () => {
              for await (const file of receiveFile) {
                using _token = await cpu.acquire();
                // Each file gets at most 5 s.
                await new CancelScope({ deadline: now() + 5000, name: `resize ${file}` }).run(async () => {
                  await sleep(1000); // resizing
                  await sendThumbnail.send(file.replace(".jpg", ".thumb.jpg"));
                });
              }
            },
            { name },
          );
        }
        tg.spawn(
          async () => {
            for await (const thumbnail of receiveThumbnail) await sleep(thumbnail.length * 10); // uploading
            allUploaded.set();
          },
          { name: "uploader" },
        );
        tg.spawn(() => allUploaded.wait(), { name: "progress" });

        await sleep(50); // let it get going
        console.log(formatTaskTree());
        tg.cancelScope.cancel();
      },
      { name: "thumbnails" },
    );
  },
  { debug: true },
);
// #endregion
