/* Reading the host: the worker's environment, its files, /etc/shadow, the
 * host's /proc, /sys, block devices, and its loopback services (a real
 * redis-server, the real API, an abstract and a path unix socket), each tried
 * from several languages; each assertion is the exact errno or content. */
import { serve } from "@hono/node-server";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp, type TestApp } from "../api/fixture.js";
import { freePort, startRedis, type TestRedis } from "../helpers/redis-server.js";
import { job, run, sandbox, testEnv } from "../helpers/sandbox.js";

const SECRET = `warren-secret-${randomBytes(12).toString("hex")}`;
let redis: TestRedis;
let api: TestApp;
let apiServer: ReturnType<typeof serve>;
let apiPort: number;
let abstractServer: net.Server;
let pathServer: net.Server;
const abstractName = `warren-esc-abstract-${process.pid}-${randomBytes(4).toString("hex")}`;
const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-esc-sock-"));
const socketPath = path.join(socketDir, "service.sock");

beforeAll(async () => {
  // The runner's own secret: every launcher this process spawns inherits it.
  process.env.WARREN_ESCAPE_SECRET = SECRET;
  await sandbox();
  redis = await startRedis();
  api = await testApp({}, { worker: false });
  apiPort = await freePort();
  apiServer = serve({ fetch: api.app.fetch, port: apiPort, hostname: "127.0.0.1" });
  const greet = (socket: net.Socket) => socket.end(`${SECRET}\n`);
  abstractServer = net.createServer(greet).listen({ path: `\0${abstractName}` });
  pathServer = net.createServer(greet).listen({ path: socketPath });
  fs.chmodSync(socketDir, 0o755);
  fs.chmodSync(socketPath, 0o777);
  // the services really answer on the host
  expect((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status).toBe(200);
});

afterAll(async () => {
  delete process.env.WARREN_ESCAPE_SECRET;
  abstractServer?.close();
  pathServer?.close();
  apiServer?.close();
  await api?.close();
  await redis?.dispose();
  fs.rmSync(socketDir, { recursive: true, force: true });
});

describe("the worker's secrets", () => {
  it("no job sees the runner's environment: not in its own, not in any /proc/*/environ or cmdline it can read", async () => {
    const program = `import os, glob
print(sorted(os.environ))
seen = []
for p in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline") + glob.glob("/proc/[0-9]*/task/*/environ"):
    try: seen.append(open(p, "rb").read().decode("latin1"))
    except OSError as e: seen.append(f"{p}:{e.errno}")
for root in ["/box", "/tmp", "/etc", "/dev/shm", "/root", "/home"]:
    for d, _, files in os.walk(root):
        for f in files:
            try: seen.append(open(os.path.join(d, f), "rb").read(1 << 16).decode("latin1"))
            except OSError: pass
print("\\n".join(seen))`;
    const result = await run(job("python", "main.py", program, { limits: { outputKb: 65_536 } }));
    expect(result).toMatchObject({ verdict: "accepted" });
    const [keys, ...rest] = result.run!.stdout.split("\n");
    // the program's environment is the image's and nothing else
    expect(keys).toBe("['HOME', 'LANG', 'PATH', 'TMPDIR']");
    expect(rest.join("\n")).not.toContain(SECRET);
    expect(rest.join("\n")).not.toContain("WARREN_ESCAPE_SECRET");
    // the container's init (which inherited it) is unreadable: EACCES
    expect(rest).toContain("/proc/1/environ:13");
  });

  it("JavaScript and Bash see the same clean environment", async () => {
    const js = await run(job("javascript", "main.js", "console.log(Object.keys(process.env).sort().join(','))"));
    expect(js).toMatchObject({ verdict: "accepted", run: { stdout: "HOME,LANG,PATH,TMPDIR\n" } });
    const sh = await run(job("bash", "main.sh", "env | grep -c WARREN_ESCAPE_SECRET; tr '\\0' '\\n' < /proc/1/environ"));
    expect(sh).toMatchObject({ verdict: "runtime_error", run: { stdout: "0\n" } });
    expect(sh.run!.stderr).toContain("/proc/1/environ: Permission denied");
  });

  it("host files are absent: /etc/shadow, the data dir, the repository, the test's own unix socket", async () => {
    const dataDir = testEnv().WARREN_DATA_DIR!;
    const paths = ["/etc/shadow", "/etc/gshadow", dataDir, process.cwd(), socketPath, "/var/run/docker.sock", "/run/systemd", "/sys/fs/cgroup"];
    const program = `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) { int fd = open(argv[i], O_RDONLY); printf("%s %s\\n", argv[i], fd >= 0 ? "OPENED" : errno == ENOENT ? "ENOENT" : strerror(errno)); }
  return 0;
}`;
    const result = await run(job("c", "main.c", program, { args: paths }));
    expect(result).toMatchObject({ verdict: "accepted" });
    expect(result.run!.stdout).toBe(paths.map((p) => `${p} ENOENT\n`).join(""));
  });
});

describe("the host's /proc, /sys and devices", () => {
  it("/proc shows only the job's own processes; host pids do not exist and cannot be signalled", async () => {
    const program = `import os, errno
print(sorted(open(f"/proc/{p}/comm").read().strip() for p in os.listdir("/proc") if p.isdigit()))
print(os.path.exists("/proc/${process.pid}"), os.path.exists("/proc/${process.ppid}"))
for pid in (${process.pid}, ${process.ppid}):
    try: os.kill(pid, 9); print("killed")
    except OSError as e: print(errno.errorcode[e.errno])`;
    const result = await run(job("python", "main.py", program));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "['python3', 'warren-launch']\nFalse False\nESRCH\nESRCH\n" } });
    expect(process.kill(process.pid, 0)).toBe(true);
  });

  it("/sys does not exist, and sysfs cannot be mounted", async () => {
    const program = `#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
int main(void) {
  struct stat st;
  int rc = stat("/sys", &st);
  printf("stat %d %s\\n", rc, errno == ENOENT ? "ENOENT" : "?");
  rc = mount("sysfs", "/tmp", "sysfs", 0, 0);
  printf("mount %d %s\\n", rc, errno == EPERM ? "EPERM" : "?");
  return 0;
}`;
    const result = await run(job("c", "main.c", program));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "stat -1 ENOENT\nmount -1 EPERM\n" } });
  });

  it("no block device is reachable: none in /dev, the host disk's node absent, none can be made", async () => {
    const program = `import os, stat, errno
print([f for f in os.listdir("/dev") if stat.S_ISBLK(os.lstat("/dev/" + f).st_mode)])
for dev in ["/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/mem", "/dev/kmsg", "/dev/vsock"]:
    try: open(dev, "rb"); print(dev, "OPENED")
    except OSError as e: print(dev, errno.errorcode[e.errno])
try: os.mknod("/tmp/disk", 0o600 | stat.S_IFBLK, os.makedev(254, 0)); print("mknod OK")
except OSError as e: print("mknod", errno.errorcode[e.errno])`;
    const result = await run(job("python", "main.py", program));
    expect(result).toMatchObject({
      verdict: "accepted",
      run: { stdout: "[]\n/dev/vda ENOENT\n/dev/sda ENOENT\n/dev/nvme0n1 ENOENT\n/dev/mem ENOENT\n/dev/kmsg ENOENT\n/dev/vsock ENOENT\nmknod EPERM\n" },
    });
  });
});

describe("the host's loopback services", () => {
  it("Python: Redis and the API on host loopback are ECONNREFUSED (v4 and v6); the unix sockets are not there", async () => {
    const program = `import socket, errno
def tcp(family, host, port):
    s = socket.socket(family)
    try: s.connect((host, port)); return "CONNECTED " + s.recv(64).decode("latin1")
    except OSError as e: return errno.errorcode[e.errno]
def unix(name):
    s = socket.socket(socket.AF_UNIX)
    try: s.connect(name); return "CONNECTED " + s.recv(64).decode("latin1")
    except OSError as e: return errno.errorcode[e.errno]
print(tcp(socket.AF_INET, "127.0.0.1", ${0}), tcp(socket.AF_INET, "127.0.0.1", ${1}), tcp(socket.AF_INET6, "::1", ${0}), tcp(socket.AF_INET, "127.0.0.2", ${1}))
print(unix("\\0${abstractName}"), unix("${socketPath}"))`;
    const body = program.replaceAll("${0}", String(redis.port)).replaceAll("${1}", String(apiPort));
    const result = await run(job("python", "main.py", body));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "ECONNREFUSED ECONNREFUSED ECONNREFUSED ECONNREFUSED\nECONNREFUSED ENOENT\n" } });
  });

  it("Bash /dev/tcp, C connect() and JavaScript net.connect are refused the same way", async () => {
    const bash = await run(job("bash", "main.sh", `exec 3<>/dev/tcp/127.0.0.1/${redis.port} && echo CONNECTED || echo refused`));
    expect(bash).toMatchObject({ run: { stdout: "refused\n" } });
    expect(bash.run!.stderr).toContain("Connection refused");

    const c = `#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
int main(void) {
  int ports[] = { ${redis.port}, ${apiPort} };
  for (int i = 0; i < 2; i++) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ports[i]), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int s = socket(AF_INET, SOCK_STREAM, 0);
    printf("%s\\n", connect(s, (struct sockaddr *)&a, sizeof a) == 0 ? "CONNECTED" : errno == ECONNREFUSED ? "ECONNREFUSED" : "other");
  }
  return 0;
}`;
    expect(await run(job("c", "main.c", c))).toMatchObject({ verdict: "accepted", run: { stdout: "ECONNREFUSED\nECONNREFUSED\n" } });

    const js = `const net = require("node:net");
const tryPort = (port) => new Promise((done) => net.connect(port, "127.0.0.1").on("connect", () => done("CONNECTED")).on("error", (e) => done(e.code)));
Promise.all([tryPort(${redis.port}), tryPort(${apiPort})]).then((r) => console.log(r.join(" ")));`;
    expect(await run(job("javascript", "main.js", js))).toMatchObject({ verdict: "accepted", run: { stdout: "ECONNREFUSED ECONNREFUSED\n" } });
  });

  it("the network namespace has only lo, no routes, and lo only has loopback addresses", async () => {
    const result = await run(job("bash", "main.sh", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; tail -n +2 /proc/net/route | wc -l; tail -n +2 /proc/net/ipv6_route | grep -vc ' lo$'"));
    // ipv6_route lists the local and multicast routes of lo only: no line names another device
    expect(result.run!.stdout).toBe("lo\n0\n0\n");
  });

  it("AF_VSOCK, which network namespaces do not cover, cannot be opened (socket() only: nothing is sent)", async () => {
    // vsock reaches the hypervisor and host-side listeners of this VM past the
    // container's network namespace; Docker's default seccomp profile denies it.
    const program = "import socket, errno\ntry:\n    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM); print('OPENED')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])";
    const result = await run(job("python", "main.py", program));
    expect(result).toMatchObject({ verdict: "accepted", run: { stdout: "EPERM\n" } });
  });
});
