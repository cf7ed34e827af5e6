/**
 * The error classes `@quartet/node` adds to Quartet's own. Each sets `name` to
 * its class name. Bad arguments are reported with `TypeError` and `RangeError`.
 *
 * @module
 */

/**
 * Thrown by `runProcess` when the child exits with a non-zero code or is killed
 * by a signal (unless `check: false`). Carries the exit `code` (or the
 * `signal`), and the last lines of the child's standard error in `stderr` and
 * in the message, so that a failing command says why it failed.
 *
 * @example
 * ```ts
 * import { ProcessError, runProcess } from "@quartet/node";
 *
 * try {
 *   await runProcess("ls", ["/no/such/directory"]);
 * } catch (err) {
 *   if (err instanceof ProcessError) console.log(err.code, err.stderr); // 2 "ls: cannot access …"
 * }
 * ```
 */
export class ProcessError extends Error {
  /** The command that failed. */
  readonly command: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** The exit code, or `null` if the child was killed by a signal. */
  readonly code: number | null;
  /** The signal that killed the child, or `null` if it exited by itself. */
  readonly signal: NodeJS.Signals | null;
  /** The tail of the child's standard error (its last lines; empty unless stderr was collected). */
  readonly stderr: string;
  /** The child's collected standard output (empty unless stdout was collected). */
  readonly stdout: Buffer;

  constructor(command: string, args: readonly string[], code: number | null, signal: NodeJS.Signals | null, stderr: string, stdout: Buffer) {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    super(`${[command, ...args].join(" ")} ${how}${stderr === "" ? "" : `:\n${stderr}`}`);
    this.command = command;
    this.args = args;
    this.code = code;
    this.signal = signal;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}
ProcessError.prototype.name = "ProcessError";

/**
 * Thrown by reading a request body that is larger than `serveHttp`'s
 * `maxBodySize`: the body stream ends with it (however it is read), the
 * request's scope is cancelled with it as the `reason`, and the client gets a
 * 413. A handler need not catch it; one that lets it out is not reported to
 * `onError` (the server refused the body, the handler did not fail).
 *
 * @example
 * ```ts
 * import { BodyTooLargeError, runMain, serveHttp } from "@quartet/node";
 *
 * await runMain(() =>
 *   serveHttp(async (request, response) => {
 *     const chunks: Buffer[] = [];
 *     try {
 *       for await (const chunk of request) chunks.push(chunk);
 *     } catch (err) {
 *       if (err instanceof BodyTooLargeError) console.log(`refused a body over ${err.limit} bytes`); // the client got a 413
 *       throw err;
 *     }
 *     response.end(`${Buffer.concat(chunks).length} bytes\n`);
 *   }, { port: 8080, maxBodySize: 64 * 1024 }),
 * );
 * ```
 */
export class BodyTooLargeError extends Error {
  /** The limit that the body went over, in bytes. */
  readonly limit: number;

  constructor(limit: number) {
    super(`the request body is larger than ${limit} bytes (maxBodySize)`);
    this.limit = limit;
  }
}
BodyTooLargeError.prototype.name = "BodyTooLargeError";
