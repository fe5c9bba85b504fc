/**
 * Warren's own faults. A misbehaving untrusted program is never one of these:
 * it is a status in a result. Callers match on `code`, never on `message`.
 */
export class WarrenError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** A request (from a client or the command line) that Warren will not run. */
export class InvalidRequestError extends WarrenError {
  constructor(message: string, details?: unknown) {
    super("invalid_request", message, { details });
  }
}

/** A file path in a job that is absolute, empty, or climbs out with `..`. */
export class InvalidFilePathError extends WarrenError {
  constructor(path: string, reason: string) {
    super("invalid_file_path", `File path ${JSON.stringify(path)} is not allowed: ${reason}.`, {
      details: { path, reason },
    });
  }
}

export class UnknownLanguageError extends WarrenError {
  constructor(language: string, known: readonly string[]) {
    super(
      "unknown_language",
      `Unknown language ${JSON.stringify(language)}. Known languages: ${known.join(", ")} (see \`warren languages\`).`,
      { details: { language, known } },
    );
  }
}

/** The native launcher binary is missing or not executable. */
export class LauncherNotFoundError extends WarrenError {
  constructor(path: string) {
    super(
      "launcher_not_found",
      `The sandbox launcher ${path} does not exist or is not executable. Build it with \`npm run build:native\` (needs a C compiler), or point WARREN_LAUNCHER at it.`,
      { details: { path } },
    );
  }
}

/** The launcher could not build a container, or a held container died. */
export class SandboxError extends WarrenError {
  constructor(code: "container_start_failed" | "container_gone" | "launcher_failed" | "copy_in_failed", message: string, details?: unknown) {
    super(code, message, { details });
  }
}

/** No usable delegated cgroup: Warren refuses to run without limits. */
export class CgroupUnavailableError extends WarrenError {
  constructor(message: string, details?: unknown) {
    super("cgroup_unavailable", message, { details });
  }
}

/** An image recipe (image.json) that does not parse, or a rootfs that cannot be made. */
export class ImageError extends WarrenError {
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super("image_invalid", message, options);
  }
}

/** An image archive Warren refuses to store: an entry that would escape the image or is otherwise unsafe. */
export class ImageRejectedError extends WarrenError {
  constructor(message: string, details?: unknown) {
    super("image_rejected", message, { details });
  }
}

/** An image archive that is cut short, does not parse, or whose content does not match its digests. */
export class ImageCorruptError extends WarrenError {
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super("image_corrupt", message, options);
  }
}

/** An import past its size or file-count cap. */
export class ImageLimitError extends WarrenError {
  constructor(message: string, details?: unknown) {
    super("image_too_large", message, { details });
  }
}

/** No installed image by that name. */
export class ImageNotFoundError extends WarrenError {
  constructor(name: string, known: readonly string[], reason = "is not installed") {
    super("image_not_found", `Image ${JSON.stringify(name)} ${reason}. Installed images: ${known.join(", ") || "none"} (see \`warren image ls\`).`, {
      details: { name, known },
    });
  }
}

/** An image that running sandboxes still use (removal refused). */
export class ImageInUseError extends WarrenError {
  constructor(message: string, details?: unknown) {
    super("image_in_use", message, { details });
  }
}

/** A registry that cannot be reached, refuses the credentials, lacks the image, or answers with an error. */
export class RegistryError extends WarrenError {
  constructor(code: "registry_unreachable" | "registry_auth_failed" | "registry_not_found" | "registry_error", message: string, details?: unknown) {
    super(code, message, { details });
  }
}

/**
 * An external program Warren needs (mmdebstrap, the launcher) that could not
 * be started: `program_not_found` when it is not on PATH (ENOENT), else
 * `program_start_failed` (not executable, no memory, …). The message says how
 * to get it.
 */
export class ProgramStartError extends WarrenError {
  constructor(program: string, cause: NodeJS.ErrnoException, advice: string) {
    const missing = cause.code === "ENOENT";
    super(
      missing ? "program_not_found" : "program_start_failed",
      missing ? `${program} is not installed (not found on PATH); ${advice}` : `${program} could not be started (${cause.code ?? cause.message}); ${advice}`,
      { cause, details: { program, errno: cause.code ?? null } },
    );
  }
}

/**
 * Warren holds as many requests as it will: the bodies it is reading and the
 * runs waiting for a worker add up to WARREN_PENDING_MAX_BYTES. The API says
 * 503 with Retry-After; nothing was queued.
 */
export class BusyError extends WarrenError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds = 1) {
    super("unavailable", message, { details: { reason: "busy", retryAfterSeconds } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
