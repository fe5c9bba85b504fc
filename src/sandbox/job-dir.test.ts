import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { removeJobDir, writeJobDir } from "./job-dir.js";

describe("writeJobDir", () => {
  it("writes files and parent dirs into a private dir", async () => {
    const dir = await writeJobDir([
      { path: "main.c", content: "int main(){}" },
      { path: "lib/util.h", content: Buffer.from([1, 2, 3]) },
    ]);
    try {
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
      expect(await fs.readFile(path.join(dir, "main.c"), "utf8")).toBe("int main(){}");
      expect([...(await fs.readFile(path.join(dir, "lib/util.h")))]).toEqual([1, 2, 3]);
    } finally {
      await removeJobDir(dir);
    }
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses bad paths and clashing files", async () => {
    await expect(writeJobDir([{ path: "../x", content: "" }])).rejects.toMatchObject({ code: "invalid_file_path" });
    await expect(writeJobDir([{ path: "/etc/x", content: "" }])).rejects.toMatchObject({ code: "invalid_file_path" });
    await expect(writeJobDir([{ path: "a", content: "" }, { path: "a", content: "" }])).rejects.toMatchObject({ code: "invalid_request" });
    await expect(writeJobDir([{ path: "a", content: "" }, { path: "a/b", content: "" }])).rejects.toMatchObject({ code: "invalid_request" });
  });
});
