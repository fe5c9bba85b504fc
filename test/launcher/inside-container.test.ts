/* The launcher inside a container runtime's restrictions (issue 16), made
 * for real by test/helpers/contain.c: a seccomp profile that refuses
 * sethostname, and /proc entries masked as runtimes mask them. What it may
 * do without (docs/launcher.md, *Inside a container*; SECURITY.md), it does
 * and says so; what it must not do silently, it refuses naming the options. */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { contained, kernelRefusesFreshProc } from "../helpers/contain.js";
import { cgroupArgs, containerArgs, envArgs, launch, served } from "./fixture.js";
import { TIME_SCALE } from "../helpers/sandbox.js";

const EPERM = 1;
const EACCES = 13;
const EINVAL = 22;
const ENOSYS = 38;
const limits = [...envArgs, "--memory-mb", "256", "--pids", "64", "--wall-ms", String(20000 * TIME_SCALE)];
/** What podman, Docker and containerd mask by default, among what this kernel has */
const runtimeMasks = ["/proc/keys", "/proc/timer_list", "/proc/kallsyms"];

describe("sethostname refused by the runtime's seccomp profile", () => {
  for (const [name, errno] of [["EPERM", EPERM], ["ENOSYS", ENOSYS], ["EACCES", EACCES]] as const) {
    it(`${name}: a one-shot runs, with the outer hostname, and its status says "degraded":["hostname"]`, () => {
      const r = launch([...containerArgs, ...cgroupArgs, ...limits], ["python3", "-c", "import socket; print(socket.gethostname())"], "", contained({ deny: { sethostname: errno } }, []));
      expect(r.status.status).toBe("ok");
      expect(r.stdout.trim()).toBe(os.hostname());
      expect(r.status.degraded).toEqual(["hostname"]);
    });
  }

  it("a held container is ready with \"degraded\":[\"hostname\"], and serves its executions", async () => {
    const box = await served([], { wrap: contained({ deny: { sethostname: EPERM } }, []) });
    expect(box.ready.degraded).toEqual(["hostname"]);
    const r = await box.request([...limits, "--", "python3", "-c", "import socket; print(socket.gethostname())"]);
    expect(r.status.status).toBe("ok");
    expect(r.stdout.trim()).toBe(os.hostname());
    await box.close();
  });

  it("any other errno is a fault, not a refusal: step sethostname", () => {
    const r = launch([...containerArgs], ["/bin/true"], "", contained({ deny: { sethostname: EINVAL } }, []));
    expect(r.code).toBe(125);
    expect(r.status).toMatchObject({ status: "internal_error", step: "sethostname", errno: EINVAL });
  });

  it("unrestricted, the container has its own hostname and nothing is degraded", () => {
    const r = launch([...containerArgs], ["/bin/hostname"]);
    expect(r.stdout.trim()).toBe("warren");
    expect(r.status.degraded).toBeUndefined();
  });
});

describe("a /proc masked by the runtime: no fresh procfs", () => {
  const masked = contained({ mask: runtimeMasks }, []);

  // skipped where the kernel itself allows a fresh procfs under these masks (kernelRefusesFreshProc says where)
  it.runIf(kernelRefusesFreshProc(runtimeMasks))("refuses with step mount-proc, naming the runtime's options and --bind-proc", () => {
    const r = launch([...containerArgs, ...cgroupArgs], ["/bin/true"], "", masked);
    expect(r.code).toBe(125);
    expect(r.status).toMatchObject({ status: "internal_error", step: "mount-proc", errno: EPERM });
    for (const option of ["unmask=/proc/*", "systempaths=unconfined", "procMount: Unmasked", "--bind-proc", "WARREN_BIND_PROC=1"]) {
      expect(r.status.message).toContain(option);
      expect(r.stderr).toContain(option);
    }
  });

  it("with --bind-proc it runs, says \"degraded\":[\"proc\"], and Warren's /proc masks still hold on the bind", () => {
    const r = launch([...containerArgs, "--bind-proc", ...cgroupArgs, ...limits], ["python3", "-c", `
import os
for name in ["keys", "timer_list", "kallsyms", "sysrq-trigger", "kcore", "modules", "slabinfo", "iomem", "interrupts"]:
    path = "/proc/" + name
    if not os.path.exists(path): print(name, "absent"); continue
    try: print(name, len(open(path, "rb").read()))
    except OSError as e: print(name, "errno", e.errno)
for name in ["acpi", "irq", "bus", "fs", "driver", "tty"]:
    path = "/proc/" + name
    print(name, os.listdir(path) if os.path.isdir(path) else "absent")
for path in ["/proc/sys/kernel/hostname", "/proc/sysrq-trigger", "/proc/keys"]:
    try: open(path, "w").write("x"); print(path, "written")
    except OSError as e: print(path, e.errno)
print(os.readlink("/proc/self") == str(os.getpid()), len(open("/proc/meminfo").read()) > 0)
try: open("/proc/1/environ", "rb").read(); print("outer environ read")
except OSError as e: print("outer environ", e.errno)`], "", masked);
    expect(r.status.status).toBe("ok");
    expect(r.status.degraded).toEqual(["proc"]);
    const lines = r.stdout.trim().split("\n");
    for (const line of lines.slice(0, 9)) expect(line).toMatch(/^\S+ (0|absent|errno 13|errno 1)$/);
    for (const line of lines.slice(9, 15)) expect(line).toMatch(/^\S+ (\[\]|absent)$/);
    expect(lines[15]).toBe("/proc/sys/kernel/hostname 30"); // EROFS: /proc/sys read-only
    expect(["/proc/sysrq-trigger 2", "/proc/sysrq-trigger 30"]).toContain(lines[16]);
    expect(lines[17]).toBe("/proc/keys 30");
    // the bound /proc is the outer pid namespace's: the program is there under another pid
    expect(lines[18]).toBe("False True");
    expect(lines[19]).toBe("outer environ 13"); // another user namespace's process: no ptrace access
  });

  // Docker's and podman's defaults: /proc/sys is bound read-only beside the masks, so the user
  // namespace's per-user limits cannot be written (no procfs of the launcher's own can be had)
  const sysReadOnly = contained({ mask: runtimeMasks, readOnly: ["/proc/sys"] }, []);

  it("with /proc/sys read-only too: refused at userns-limits, EROFS, before any mount", () => {
    const r = launch([...containerArgs, ...cgroupArgs], ["/bin/true"], "", sysReadOnly);
    expect(r.code).toBe(125);
    expect(r.status).toMatchObject({ status: "internal_error", step: "userns-limits", errno: 30 });
  });

  it("with /proc/sys read-only and --bind-proc it runs without the limits, says \"degraded\":[\"proc\",\"userns-limits\"], and namespaces stay refused", () => {
    const r = launch([...containerArgs, "--bind-proc", ...cgroupArgs, ...limits], ["python3", "-c", `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for flag in [0x10000000, 0x00020000, 0x40000000]:  # CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET
    print(flag, libc.unshare(flag), ctypes.get_errno())
print(os.getuid() != 0)`], "", sysReadOnly);
    expect(r.status.status).toBe("ok");
    expect(r.status.degraded).toEqual(["proc", "userns-limits"]);
    expect(r.stdout.trim().split("\n")).toEqual([`${0x10000000} -1 ${EPERM}`, `${0x00020000} -1 ${EPERM}`, `${0x40000000} -1 ${EPERM}`, "True"]);
  });

  it("a held container with both says so in its ready line, and serves its executions", async () => {
    const box = await served(["--bind-proc"], { wrap: sysReadOnly });
    expect(box.ready.degraded).toEqual(["proc", "userns-limits"]);
    const r = await box.request([...limits, "--", "/bin/echo", "served"]);
    expect(r.status.status).toBe("ok");
    expect(r.stdout).toBe("served\n");
    await box.close();
  });

  it("--bind-proc takes no --zygote-host (a zygote's children need a fresh procfs)", () => {
    const r = launch([...containerArgs, "--bind-proc", "--zygote-host"], ["/bin/true"]);
    expect(r.status).toMatchObject({ status: "internal_error", step: "options" });
    expect(r.stderr).toContain("--bind-proc takes no --zygote-host");
  });
});

// A rootless runtime's container root (podman's default user, a Kubernetes pod
// with hostUsers: false): uid 0 of a user namespace that maps it to an
// unprivileged host uid. contain --userns-root makes one for the caller's uid;
// as root that uid is the host's root, which the launcher rightly treats as
// root, so these run in the unprivileged suites (scripts/test-rootless.sh, the
// cgroup v2 VM).
describe.runIf(process.getuid?.() !== 0)("uid 0 of a user namespace mapped to a non-root uid (a rootless container's root)", () => {
  const CAP_SETFCAP = 1n << 31n;
  // podman --user 0 --cap-drop=all --cap-add=SETFCAP (test/containers/run-containers.sh runs that for real)
  const asContainerRoot = contained({ userNamespaceRoot: true, keepCaps: CAP_SETFCAP }, []);

  it("with every capability dropped: refused at userns-uid-map, EPERM (the kernel maps a uid 0 only for a holder of CAP_SETFCAP)", () => {
    const r = launch([...containerArgs], ["/bin/true"], "", contained({ userNamespaceRoot: true, keepCaps: 0n }, []));
    expect(r.code).toBe(125);
    expect(r.status).toMatchObject({ status: "internal_error", step: "userns-uid-map", errno: EPERM });
  });

  it("with CAP_SETFCAP alone: maps its sandboxes to itself as a non-root user does, and enters their cgroups: a run is limited", () => {
    const ok = launch([...containerArgs, ...cgroupArgs, ...limits], ["sh", "-c", "id -u; cat /proc/self/uid_map"], "", asContainerRoot);
    expect(ok.status, ok.stderr).toMatchObject({ status: "ok", exitCode: 0 });
    const [inside, map] = ok.stdout.split("\n");
    expect(map!.trim().split(/\s+/)).toEqual([inside, "0", "1"]); // the sandbox's uid is the container root's, not --sandbox-uid
    const greedy = launch([...containerArgs, ...cgroupArgs, ...limits, "--memory-mb", "48"], ["python3", "-c", "b = b'x' * (200 << 20)"], "", asContainerRoot);
    expect(greedy.status).toMatchObject({ status: "memory_limit_exceeded" });
  });
});
