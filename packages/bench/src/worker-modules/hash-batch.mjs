// worker-offload.ts: the SHA-256 digests (hex) of a batch of items.
import { createHash } from "node:crypto";

export default function hashBatch(items) {
  return items.map((item) => createHash("sha256").update(item).digest("hex"));
}
