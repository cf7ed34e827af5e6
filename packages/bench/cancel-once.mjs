import { sleep, taskGroup } from "@quartet/core";
async function once(n) {
  let ms = 0;
  await taskGroup(async (tg) => {
    for (let i = 0; i < n; i++) tg.spawn(async () => { try { await sleep(3_600_000); } finally { } });
    await new Promise((r) => setImmediate(r));
    ms = performance.now();
    tg.cancelScope.cancel();
  });
  return performance.now() - ms;
}
await once(10_000); gc();
console.log((await once(10_000)).toFixed(1));
