import type { TextCheck } from "./output-check.js";

/** Whether `code` is one of the characters a line's end is trimmed of. */
const isLineBlank = (code: number) => code === 0x20 || code === 0x09 || code === 0x0d;

/**
 * `text` without its trailing spaces, tabs and CRs. A loop, not
 * `/[ \t\r]+$/`: that regex is quadratic on a long run of spaces followed by
 * something else, which a program (or a request) can send.
 */
export function trimLineEnd(text: string): string {
  let end = text.length;
  while (end > 0 && isLineBlank(text.charCodeAt(end - 1))) end -= 1;
  return end === text.length ? text : text.slice(0, end);
}

/** Whether `text` holds anything but spaces, tabs and CRs. */
function hasContent(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (!isLineBlank(text.charCodeAt(i))) return true;
  return false;
}

/**
 * The lines of an expected output one at a time, each trimmed of trailing
 * spaces, tabs and CRs (so "\r\n" ends a line as "\n" does), with the trailing
 * blank lines left out: the lines a passing output must have.
 */
export class ExpectedLines {
  readonly #text: string;
  /** Where the last line with content ends; lines are read up to it. */
  readonly #end: number;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
    let last = text.length - 1;
    while (last >= 0 && (isLineBlank(text.charCodeAt(last)) || text.charCodeAt(last) === 0x0a)) last -= 1;
    if (last < 0) {
      this.#end = -1;
      this.#at = 1; // no lines at all
    } else {
      const newline = text.indexOf("\n", last);
      this.#end = newline < 0 ? text.length : newline;
    }
  }

  /** The next line, undefined past the last one. */
  next(): string | undefined {
    if (this.#at > this.#end) return undefined;
    let newline = this.#text.indexOf("\n", this.#at);
    if (newline < 0 || newline > this.#end) newline = this.#end;
    const line = trimLineEnd(this.#text.slice(this.#at, newline));
    this.#at = newline + 1;
    return line;
  }
}

/**
 * Line by line, ignoring trailing spaces/tabs/CRs and trailing blank lines.
 * The i-th line of the output must equal the expected output's i-th line,
 * and be blank past its last one; so each output line is compared as it
 * ends, and only as much of it is kept as the line it is compared with is
 * long: a longer one passes only if the rest is blank, which is all we note.
 */
export function linesCheck(expected: string): TextCheck {
  const lines = new ExpectedLines(expected);
  let same = true;
  /** The expected line the current output line is compared with ("" past the last one, which only a blank line matches). */
  let want = lines.next();
  let exhausted = want === undefined;
  let kept = "";
  let overlong = false;

  const add = (segment: string) => {
    const room = (want?.length ?? 0) - kept.length;
    if (room >= segment.length) kept += segment;
    else {
      if (room > 0) kept += segment.slice(0, room);
      if (!overlong && hasContent(room > 0 ? segment.slice(room) : segment)) overlong = true;
    }
  };
  const endLine = () => {
    // `want` has no trailing blanks and `kept` is no longer than it, so a
    // trimmed line equals it exactly when `kept` does (and the rest is blank).
    if (overlong || kept !== (want ?? "")) same = false;
    kept = "";
    overlong = false;
    want = exhausted ? undefined : lines.next();
    if (want === undefined) exhausted = true;
  };

  return {
    text(piece) {
      let from = 0;
      while (same) {
        const newline = piece.indexOf("\n", from);
        if (newline < 0) {
          add(from === 0 ? piece : piece.slice(from));
          return;
        }
        add(piece.slice(from, newline));
        endLine();
        from = newline + 1;
      }
    },
    end() {
      if (!same) return false;
      // The text after the last newline is a line too (blank when the output ends with one);
      // then no expected line may be left.
      endLine();
      return same && want === undefined;
    },
  };
}
