import { moveOnAfter, openMemoryChannel, sleep, taskGroup } from "@quartet/core";

const [send, receive] = openMemoryChannel();
await taskGroup(async (tg) => {
  tg.spawn(async () => {
    try {
      for (let i = 1; i <= 3; i++) await send.send(i);
    } finally {
      send.close(); // on Node 24, Bun and Deno: `await using out = send;` instead
    }
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
