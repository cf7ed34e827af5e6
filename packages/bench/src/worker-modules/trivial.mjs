// worker-offload.ts: the smallest call, to measure what a call costs.
export default function trivial(n) {
  return n + 1;
}
