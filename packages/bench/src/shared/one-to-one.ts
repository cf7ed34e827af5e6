/**
 * The workload of chan-rendezvous and chan-buffered, which differ only in the
 * channel's capacity: one producer sends 0..n-1, one consumer sums them.
 */
import { openMemoryChannel, taskGroup } from "quartet";
import { RawChannel } from "../raw-channel.js";
import type { Peer } from "../scenario.js";

export function rawOneToOne(capacity: number): Peer {
  return async (n) => {
    const channel = new RawChannel<number>(capacity);
    const producer = (async () => {
      for (let i = 0; i < n; i++) await channel.send(i);
      channel.close();
    })();
    let sum = 0;
    for (;;) {
      const next = await channel.receive();
      if (next.done) break;
      sum += next.value;
    }
    await producer;
    return { result: sum };
  };
}

export function quartetOneToOne(capacity: number): Peer {
  return async (n) => {
    const [send, receive] = openMemoryChannel<number>(capacity);
    let sum = 0;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using tx = send;
        for (let i = 0; i < n; i++) await tx.send(i);
      });
      for await (const value of receive) sum += value;
    });
    return { result: sum };
  };
}
