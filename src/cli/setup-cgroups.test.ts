import { describe, expect, it } from "vitest";
import { lookupUser } from "./setup-cgroups.js";

const passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001:Alice:/home/alice:/bin/bash\n";

describe("lookupUser", () => {
  it("finds a user by name or uid", () => {
    expect(lookupUser("alice", passwd)).toEqual({ name: "alice", uid: 1000, gid: 1001 });
    expect(lookupUser("1000", passwd)).toEqual({ name: "alice", uid: 1000, gid: 1001 });
  });

  it("says which user is missing", () => {
    expect(() => lookupUser("bob", passwd)).toThrow('warren setup-cgroups: no user "bob" in /etc/passwd');
  });

  it("takes a uid, or uid:gid, no host user has as it is (a container's uid)", () => {
    expect(lookupUser("10000", passwd)).toEqual({ name: "10000", uid: 10000, gid: 10000 });
    expect(lookupUser("10000:20000", passwd)).toEqual({ name: "10000:20000", uid: 10000, gid: 20000 });
    expect(lookupUser("1000:5", passwd)).toEqual({ name: "1000:5", uid: 1000, gid: 5 });
  });
});
