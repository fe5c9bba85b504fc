/**
 * A checker fed a program's stdout as it arrives: bounded state, never a
 * whole copy of the output, so a test is judged in full however little of
 * its output Warren keeps (WARREN_RESULT_MAX_BYTES, keepOutput).
 */
export interface OutputCheck {
  /** The next bytes of stdout, split anywhere (inside a UTF-8 character too). */
  write(chunk: Buffer): void;
  /** Whether the whole output passed. Call once, after the last write. */
  end(): boolean;
}

/** The same over decoded text: pieces split anywhere except inside a character. */
export interface TextCheck {
  text(piece: string): void;
  end(): boolean;
}

/**
 * Decodes the bytes as `Buffer#toString("utf8")` decodes them whole (invalid
 * sequences become U+FFFD, a BOM is kept), piece by piece, for a TextCheck:
 * the checkers compare decoded text, so their verdicts are those of the
 * whole-string comparison, invalid UTF-8 included.
 */
export function decoded(check: TextCheck): OutputCheck {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  return {
    write(chunk) {
      const piece = decoder.decode(chunk, { stream: true });
      if (piece !== "") check.text(piece);
    },
    end() {
      const rest = decoder.decode();
      if (rest !== "") check.text(rest);
      return check.end();
    },
  };
}
