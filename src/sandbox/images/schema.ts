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
    .strictObject({
      command: argvSchema.describe("Run on the host (with the image's PATH) to learn the version"),
      pattern: z.string().default("(\\d+(?:\\.\\d+)+)").describe("Regex whose first group is the version"),
    })
    .describe("How to detect the version"),
  compile: argvSchema.nullable().default(null).describe("Compile command, or null for interpreted languages"),
  run: argvSchema.describe("Run command; the job's `args` are appended"),
});
export type LanguageRecipe = z.infer<typeof languageSchema>;

const bindSchema = z.strictObject({
  source: z.string().startsWith("/").describe("Host path"),
  target: z.string().startsWith("/").describe("Path inside the container"),
  optional: z.boolean().default(false).describe("Skip when the host path does not exist"),
});

export const imageSchema = z.strictObject({
  $schema: z.string().optional().describe("Editor hint; ignored"),
  name: z.string().regex(/^[a-z][a-z0-9-]*$/).describe("Image name"),
  description: z.string().default("").describe("What the image is for"),
  rootfs: z
    .strictObject({
      kind: z.literal("host").describe("`host`: a generated skeleton with host directories bound read-only"),
      binds: z.array(bindSchema).describe("Read-only binds; never all of /etc"),
      usrMerged: z
        .array(z.string().startsWith("/"))
        .default([])
        .describe("Top-level dirs (/bin, /lib…) recreated as the host's symlinks into /usr when the host is merged-usr, else bound"),
    })
    .describe("How the image's root is made"),
  env: z.record(z.string(), z.string()).default({}).describe("Base environment of every program"),
  languages: z.array(languageSchema).min(1).describe("The languages the image provides"),
});
export type ImageRecipe = z.infer<typeof imageSchema>;
