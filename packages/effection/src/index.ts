/**
 * `@quartet/effection`: a two-way bridge between Quartet and effection 4.
 * Effection operations run from async functions ({@link fromOperation}) and
 * Quartet functions run as effection operations ({@link toOperation}), each
 * side cancelled when the other is (a cancel scope halts the effection task; a
 * halt cancels the Quartet scope), with cleanup finished before the call
 * returns; channels and streams cross both ways with backpressure
 * ({@link toStream}, {@link fromStream}).
 *
 * @module @quartet/effection
 */

export { fromOperation, toOperation, type FromOperationOptions } from "./operation.js";
export { fromStream, toStream, type Receivable } from "./stream.js";
