import { describe, expect, it } from "vitest";
import { lookupUser } from "./setup-cgroups.js";

const passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001:Alice:/home/alice:/bin/bash\n";

describe("lookupUser", () => {
  it("finds a user by name or uid", () => {
    expect(lookupUser("alice", passwd)).toEqual({ name: "alice", uid: 1000, gid: 1001 });
    expect(lookupUser("1000", passwd)).toEqual({ name: "alice", uid: 1000, gid: 1001 });
  });

  it("says which user is missing", () => {
    expect(() => lookupUser("bob", passwd)).toThrow('warren setup-cgroups: no user "bob" in /etc/passwd.');
  });
});
