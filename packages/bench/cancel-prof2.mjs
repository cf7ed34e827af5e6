import { Session } from "node:inspector/promises";
import { writeFileSync, mkdirSync } from "node:fs";
import { sleep, taskGroup } from "@quartet/core";
const session = new Session(); session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 50 });
async function once(n, profile) {
  await taskGroup(async (tg) => {
    for (let i = 0; i < n; i++) tg.spawn(async () => { try { await sleep(3_600_000); } finally { } });
    await new Promise((r) => setImmediate(r));
    if (profile) await session.post("Profiler.start");
    tg.cancelScope.cancel();
  });
}
for (let i = 0; i < 5; i++) await once(10_000, false);
for (let i = 0; i < 20; i++) await once(10_000, true);
const { profile } = await session.post("Profiler.stop");
mkdirSync("/tmp/prof/cpu5", { recursive: true });
writeFileSync("/tmp/prof/cpu5/x.cpuprofile", JSON.stringify(profile));
