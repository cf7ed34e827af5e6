// worker-offload.ts: a pipeline stage in a worker: batches of items in over one port, their digests out over another.
import { createHash } from "node:crypto";
import { receiveChannelOverPort, sendChannelOverPort } from "@quartet/node";

export default async function hashStage({ input, output }) {
  const batches = receiveChannelOverPort(input);
  const digests = sendChannelOverPort(output, { bufferSize: 4 });
  try {
    for await (const batch of batches) await digests.send(batch.map((item) => createHash("sha256").update(item).digest("hex")));
  } finally {
    batches.close();
    await digests.finish();
  }
}
