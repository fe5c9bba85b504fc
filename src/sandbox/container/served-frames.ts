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
/** A signal for a streamed execution's program, in order with its stdin frames. */
const SIGNAL = "g".charCodeAt(0);
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

/** A signal (its number) for every process of a streamed execution, in order with its stdin frames: a 4-byte payload. */
export function encodeSignal(signo: number): Buffer {
  const frame = Buffer.alloc(REQUEST_HEADER + 4);
  frame[0] = SIGNAL;
  frame.writeUInt32LE(4, 1);
  frame.writeUInt32LE(signo, REQUEST_HEADER);
  return frame;
}

/**
 * Relayed signals (docs/launcher.md, *Signals*): the real-time signal that asks
 * a held launcher to send signal SIGNO (1–15) to the program of the streamed
 * execution it was sent ORDINAL-th exec request for (counted from 0), out of
 * band: a signal frame would wait behind stdin the program does not read.
 * Only the ordinal's parity travels: the launcher drops one for the execution
 * before (launcher.h, RELAY_BASE).
 */
export const RELAY_BASE = 34;
export const RELAY_SIGNALS = 15;
export function relaySignal(ordinal: number, signo: number): number {
  if (!Number.isInteger(signo) || signo < 1 || signo > RELAY_SIGNALS) throw new RangeError(`Signal ${signo} cannot be relayed: only 1 to ${RELAY_SIGNALS} can.`);
  return RELAY_BASE + (ordinal % 2) * RELAY_SIGNALS + signo;
}

export type AnswerType = "o" | "e" | "s" | "u";

/** Splits the launcher's stdout into frames: stdout ('o') and stderr ('e') chunks, with `--usage-frames` a cgroup reading ('u') before each stdout chunk, then the status line ('s'). */
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
      if (type !== "o" && type !== "e" && type !== "s" && type !== "u") throw new Error(`The launcher sent a frame of unknown type ${JSON.stringify(type)}.`);
      this.#onFrame(type, buffer.subarray(ANSWER_HEADER, ANSWER_HEADER + length));
      buffer = buffer.subarray(ANSWER_HEADER + length);
    }
    this.#pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
  }
}

/**
 * A MSG_USAGE frame's payload (`--usage-frames`, docs/launcher.md): the
 * execution's cgroup as the launcher read it just before the stdout chunk
 * that comes next — CPU µs, peak bytes, OOM kills, each an int64 little-endian, -1
 * for a file it could not read. Undefined for a payload of another size or
 * with any of them unread.
 */
export function decodeUsage(data: Buffer): { cpuTimeMs: number; memoryKb: number; oomKills: number } | undefined {
  if (data.length !== 24) return undefined;
  const [cpuUs, peakBytes, oomKills] = [0, 8, 16].map((at) => Number(data.readBigInt64LE(at)));
  if (cpuUs! < 0 || peakBytes! < 0 || oomKills! < 0) return undefined;
  return { cpuTimeMs: cpuUs! / 1000, memoryKb: Math.floor(peakBytes! / 1024), oomKills: oomKills! };
}
