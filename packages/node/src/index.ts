/**
 * `@quartet/node`: Quartet on Node.js. A program's entry point with signals
 * (`runMain`), HTTP and TCP servers whose requests and connections are tasks in
 * their own cancel scopes (`serveHttp`, `serveTcp`, `openTcpStream`), child
 * processes (`runProcess`), worker threads (`runInWorker`, `openWorkerPool`), and
 * channels over Node and WHATWG streams and between threads (`sendChannelOverPort`).
 *
 * @module @quartet/node
 */

export { runMain, type RunMainOptions } from "./run-main.js";
export { serveHttp, type HttpHandler, type RequestContext, type ServeHttpOptions } from "./http.js";
export { serveTcp, openTcpStream, type ServeTcpOptions, type TcpStream } from "./tcp.js";
export { runProcess, type OutputMode, type ProcessOptions, type ProcessResult, type RunningProcess } from "./process.js";
export { fromReadable, readableFrom, type ReadableFromOptions } from "./readable.js";
export { toWritable, type WritableChannel } from "./writable.js";
export { fromReadableStream, toWritableStream, readableStreamFrom } from "./web-streams.js";
export { BodyTooLargeError, ProcessError } from "./errors.js";
export {
  runInWorker,
  openWorkerPool,
  type RunInWorkerOptions,
  type WorkerPool,
  type WorkerPoolOptions,
  type WorkerPoolStatistics,
} from "./worker.js";
export { sendChannelOverPort, receiveChannelOverPort, type SendChannelOverPortOptions } from "./port-channel.js";
