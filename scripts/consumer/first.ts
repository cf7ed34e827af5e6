import { moveOnAfter, openMemoryChannel, sleep, taskGroup } from "@quartet/core";

const [send, receive] = openMemoryChannel<number>();
await taskGroup(async (tg) => {
  tg.spawn(async () => {
    await using out = send; // closed when this task ends, however it ends
    for (let i = 1; i <= 3; i++) await out.send(i);
  });
  tg.spawn(async () => {
    for await (const n of receive) console.log(`received ${n}`);
  });
}); // returns once both tasks have finished

const result = await moveOnAfter(100, async () => {
  await sleep(60_000);
  return "finished";
});
console.log(result ?? "gave up after 100 ms");
