import { InvalidRequestError } from "../../errors.js";

/**
 * The framing of served execs (docs/launcher.md, "Served execs"): requests to
 * a held launcher's stdin, answers from its stdout.
 */

/** Request types. */
const EXEC = "x".charCodeAt(0);
const CANCEL = "k".charCodeAt(0);
/** A streamed execution's stdin (`--stdin-stream`): its bytes, and its end. */
const STDIN = "i".charCodeAt(0);
const STDIN_END = "z".charCodeAt(0);
/** A request header: type, arguments' length, stdin's length (little-endian). */
const REQUEST_HEADER = 9;
/** An answer header: type, length. */
const ANSWER_HEADER = 5;
/** The launcher refuses longer argument lists. */
export const MAX_REQUEST_ARGS_BYTES = 4 << 20;

/** One exec request: the exec options and program (`execArgs`), NUL-terminated each, then stdin. */
export function encodeExecRequest(args: readonly string[], stdin: Buffer): Buffer {
  if (args.some((arg) => arg.includes("\0"))) throw new InvalidRequestError("An argument of the execution contains a NUL byte.");
  const encoded = Buffer.from(args.map((arg) => `${arg}\0`).join(""), "utf8");
  if (encoded.length > MAX_REQUEST_ARGS_BYTES) {
    throw new RangeError(`The program's arguments and environment take ${encoded.length} bytes; at most ${MAX_REQUEST_ARGS_BYTES} are allowed.`);
  }
  if (stdin.length > 0xffff_ffff) throw new RangeError(`stdin of ${stdin.length} bytes is over 4 GiB.`);
  const header = Buffer.alloc(REQUEST_HEADER);
  header[0] = EXEC;
  header.writeUInt32LE(encoded.length, 1);
  header.writeUInt32LE(stdin.length, 5);
  return Buffer.concat([header, encoded, stdin]);
}

/** Cancels the execution under way (ignored when none is). */
export function encodeCancel(): Buffer {
  const header = Buffer.alloc(REQUEST_HEADER);
  header[0] = CANCEL;
  return header;
}

/**
 * The header of a frame of bytes for a streamed execution's stdin: the same
 * 9-byte header, its first length 0, its second the number of bytes that follow.
 */
export function encodeStdinHeader(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffff_ffff) throw new RangeError(`A stdin chunk of ${length} bytes is over 4 GiB.`);
  const header = Buffer.alloc(REQUEST_HEADER);
  header[0] = STDIN;
  header.writeUInt32LE(length, 5);
  return header;
}

/** The end of a streamed execution's stdin: the launcher closes the pipe, the program reads EOF. */
export function encodeStdinEnd(): Buffer {
  const header = Buffer.alloc(REQUEST_HEADER);
  header[0] = STDIN_END;
  return header;
}

export type AnswerType = "o" | "e" | "s";

/** Splits the launcher's stdout into frames: stdout ('o') and stderr ('e') chunks, then the status line ('s'). */
export class AnswerReader {
  readonly #onFrame: (type: AnswerType, data: Buffer) => void;
  #pending: Buffer = Buffer.alloc(0);

  constructor(onFrame: (type: AnswerType, data: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buffer.length >= ANSWER_HEADER) {
      const length = buffer.readUInt32LE(1);
      if (buffer.length < ANSWER_HEADER + length) break;
      const type = String.fromCharCode(buffer[0] as number);
      if (type !== "o" && type !== "e" && type !== "s") throw new Error(`The launcher sent a frame of unknown type ${JSON.stringify(type)}.`);
      this.#onFrame(type, buffer.subarray(ANSWER_HEADER, ANSWER_HEADER + length));
      buffer = buffer.subarray(ANSWER_HEADER + length);
    }
    this.#pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
  }
}
