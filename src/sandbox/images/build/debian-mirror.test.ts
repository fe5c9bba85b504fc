import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../../../config/load-settings.js";
import { debianMirror, fromDeb822, fromOneLine } from "./debian-mirror.js";

const DEB822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
`;

describe("the host's Debian mirror", () => {
  it("reads deb822 and one-line sources for the suite", () => {
    expect(fromDeb822(DEB822, "bookworm")).toBe("http://mirror.example/debian");
    expect(fromDeb822(DEB822, "bookworm-security")).toBe("http://security.example/debian-security");
    expect(fromDeb822(DEB822, "trixie")).toBeUndefined();
    expect(fromOneLine("# x\ndeb [arch=amd64] http://one.example/debian bookworm main\n", "bookworm")).toBe("http://one.example/debian");
  });

  it("prefers WARREN_DEBIAN_MIRROR, then /etc/apt, then deb.debian.org", () => {
    const apt = fs.mkdtempSync(path.join(os.tmpdir(), "warren-apt-"));
    fs.mkdirSync(path.join(apt, "sources.list.d"));
    fs.writeFileSync(path.join(apt, "sources.list.d", "debian.sources"), DEB822);
    expect(debianMirror("bookworm", loadSettings({ WARREN_DEBIAN_MIRROR: "http://env.example/debian" }).images.debianMirror, apt)).toBe("http://env.example/debian");
    expect(debianMirror("bookworm", loadSettings({}).images.debianMirror, apt)).toBe("http://mirror.example/debian");
    expect(debianMirror("trixie", loadSettings({}).images.debianMirror, apt)).toBe("http://deb.debian.org/debian");
    fs.rmSync(apt, { recursive: true });
  });
});
