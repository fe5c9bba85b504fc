import { z } from "zod";

/**
 * Placeholders a command template may use, each a whole argument:
 * - `{source}`: the entry file (the job's first file);
 * - `{sources}`: every job file with one of the language's extensions, entry first;
 * - `{stem}`: the entry file's name without directory and extension (Java's main class);
 * - `{jvmFlags}` / `{javacFlags}`: JVM sizing flags derived from the stage's memory limit.
 */
export const PLACEHOLDERS = ["{source}", "{sources}", "{stem}", "{jvmFlags}", "{javacFlags}"] as const;

const argvSchema = z.array(z.string().min(1)).min(1).describe("argv; argv[0] is looked up in the image's PATH");

export const languageSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9+-]*$/).describe("Stable identifier used by clients, e.g. `python`"),
  name: z.string().min(1).describe("Human name, e.g. `Python`"),
  aliases: z.array(z.string().min(1)).default([]).describe("Other names accepted for `language`"),
  extensions: z.array(z.string().regex(/^\.[A-Za-z0-9+]+$/)).min(1).describe("File extensions used to guess the language, with the dot"),
  sourceFile: z.string().min(1).describe("The conventional name of the entry file, e.g. `Main.java`"),
  version: z
    .union([
      z.strictObject({ fixed: z.string().min(1).describe("The version, when the image pins it") }),
      z.strictObject({
        command: argvSchema.describe("Prints the version: run on the host for the host image, inside the image (in a sandbox) once at install for a stored one"),
        pattern: z.string().default("(\\d+(?:\\.\\d+)+)").describe("Regex whose first group is the version"),
      }),
    ])
    .describe("The version: fixed, or detected by a command"),
  compile: argvSchema.nullable().default(null).describe("Compile command, or null for interpreted languages"),
  run: argvSchema.describe("Run command; the job's `args` are appended"),
});
export type LanguageRecipe = z.infer<typeof languageSchema>;

const bindSchema = z.strictObject({
  source: z.string().startsWith("/").describe("Host path"),
  target: z.string().startsWith("/").describe("Path inside the container"),
  optional: z.boolean().default(false).describe("Skip when the host path does not exist"),
});

const hostRootfsSchema = z.strictObject({
  kind: z.literal("host").describe("`host`: a generated skeleton with host directories bound read-only"),
  binds: z.array(bindSchema).describe("Read-only binds; never all of /etc"),
  usrMerged: z
    .array(z.string().startsWith("/"))
    .default([])
    .describe("Top-level dirs (/bin, /lib…) recreated as the host's symlinks into /usr when the host is merged-usr, else bound"),
});
export type HostRootfs = z.infer<typeof hostRootfsSchema>;

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$/, "a Debian package name");

/** An absolute path or glob inside the image; a restricted alphabet, since it goes into mmdebstrap hooks and dpkg options. */
const imagePathGlob = z.string().regex(/^\/[A-Za-z0-9._*+\/-]+$/, "an absolute path or glob of letters, digits and . _ * + / -");

const debianRootfsSchema = z.strictObject({
  kind: z.literal("debian").describe("`debian`: a Debian root built with mmdebstrap, then imported"),
  suite: z.string().regex(/^[a-z0-9-]+$/).default("bookworm").describe("Debian suite, e.g. `bookworm`"),
  variant: z.enum(["essential", "apt", "minbase", "buildd", "required", "important", "standard"]).default("essential").describe("mmdebstrap --variant: the base package set"),
  components: z.array(z.string().regex(/^[a-z-]+$/)).default(["main"]).describe("Archive components, e.g. main, contrib"),
  packages: z.array(packageName).default([]).describe("Packages to install on top of the variant"),
  exclude: z
    .array(imagePathGlob)
    .default(["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*"])
    .describe("dpkg path-exclude globs: files never unpacked (docs, manuals, translations)"),
  cleanup: z
    .array(imagePathGlob)
    .default(["/var/lib/apt/lists/*", "/var/cache/apt/*", "/var/log/*"])
    .describe("Paths (globs) deleted from the root after installation"),
});
export type DebianRootfs = z.infer<typeof debianRootfsSchema>;

export const imageSchema = z.strictObject({
  $schema: z.string().optional().describe("Editor hint; ignored"),
  name: z.string().regex(/^[a-z][a-z0-9-]*$/).describe("Image name"),
  description: z.string().default("").describe("What the image is for"),
  rootfs: z
    .discriminatedUnion("kind", [hostRootfsSchema, debianRootfsSchema])
    .describe("How the image's root is made"),
  env: z.record(z.string(), z.string()).default({}).describe("Base environment of every program"),
  languages: z.array(languageSchema).min(1).describe("The languages the image provides"),
});
export type ImageRecipe = z.infer<typeof imageSchema>;
