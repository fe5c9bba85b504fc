/* Forbidden system calls from C, made for real (with arguments that would
 * work for a privileged caller), each with its exact errno; foreign ABIs kill. */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { job, run } from "../helpers/sandbox.js";

const PROGRAM = String.raw`#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void show(const char *name, long rc) { printf("%s %ld %s\n", name, rc, rc < 0 ? strerrorname_np(errno) : "-"); }

int main(void) {
  show("mount", mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m"));
  show("umount2", umount2("/proc", MNT_DETACH));
  show("ptrace-traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
  show("ptrace-attach-init", ptrace(PTRACE_ATTACH, 1, 0, 0));
  union bpf_attr battr; memset(&battr, 0, sizeof battr);
  battr.map_type = BPF_MAP_TYPE_ARRAY; battr.key_size = 4; battr.value_size = 4; battr.max_entries = 1;
  show("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &battr, sizeof battr));
  struct perf_event_attr pattr; memset(&pattr, 0, sizeof pattr);
  pattr.size = sizeof pattr; pattr.type = PERF_TYPE_SOFTWARE; pattr.config = PERF_COUNT_SW_CPU_CLOCK;
  show("perf_event_open", syscall(SYS_perf_event_open, &pattr, 0, -1, -1, 0));
  show("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "warren"));
  show("add_key", syscall(SYS_add_key, "user", "warren", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("request_key", syscall(SYS_request_key, "user", "warren", 0, KEY_SPEC_SESSION_KEYRING));
  show("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
  struct io_uring_params uparams; memset(&uparams, 0, sizeof uparams);
  show("io_uring_setup", syscall(SYS_io_uring_setup, 8, &uparams));
  show("unshare-user", unshare(CLONE_NEWUSER));
  show("unshare-mount", unshare(CLONE_NEWNS));
  show("unshare-net", unshare(CLONE_NEWNET));
  int ns = open("/proc/self/ns/net", O_RDONLY);
  show("setns", setns(ns, CLONE_NEWNET));
  show("clone-newpid", syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0));
  show("clone3", syscall(SYS_clone3, 0, 0));
  show("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, 0));
  show("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0));
  show("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
  show("init_module", syscall(SYS_init_module, "", 0, ""));
  show("delete_module", syscall(SYS_delete_module, "loop", 0));
  show("chroot", chroot("/tmp"));
  show("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
  show("mknod-char", mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)));
  show("mknod-block", mknod("/tmp/vda", S_IFBLK | 0600, makedev(254, 0)));
  show("mknodat-block", mknodat(AT_FDCWD, "/tmp/vdb", S_IFBLK | 0600, makedev(254, 0)));
  show("mknod-fifo", mknod("/tmp/fifo", S_IFIFO | 0600, 0));
  show("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, 0, O_RDONLY));
  show("swapon", syscall(SYS_swapon, "/tmp/swap", 0));
  show("acct", syscall(SYS_acct, "/tmp/acct"));
  show("syslog", syscall(SYS_syslog, 3, 0, 0));
  show("setuid-0", syscall(SYS_setuid, 0));
  show("sethostname", sethostname("evil", 4));
  show("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
  show("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 0));
  show("iopl", syscall(SYS_iopl, 3));
  show("personality", syscall(SYS_personality, 0x0400000));
  return 0;
}`;

const EXPECTED: Record<string, string> = {
  mount: "-1 EPERM",
  umount2: "-1 EPERM",
  "ptrace-traceme": "-1 EPERM",
  "ptrace-attach-init": "-1 EPERM",
  bpf: "-1 EPERM",
  perf_event_open: "-1 EPERM",
  keyctl: "-1 EPERM",
  add_key: "-1 EPERM",
  request_key: "-1 EPERM",
  userfaultfd: "-1 EPERM",
  io_uring_setup: "-1 EPERM",
  "unshare-user": "-1 EPERM",
  "unshare-mount": "-1 EPERM",
  "unshare-net": "-1 EPERM",
  setns: "-1 EPERM",
  "clone-newpid": "-1 EPERM",
  clone3: "-1 ENOSYS",
  reboot: "-1 EPERM",
  kexec_load: "-1 EPERM",
  kexec_file_load: "-1 EPERM",
  init_module: "-1 EPERM",
  delete_module: "-1 EPERM",
  chroot: "-1 EPERM",
  pivot_root: "-1 EPERM",
  "mknod-char": "-1 EPERM",
  "mknod-block": "-1 EPERM",
  "mknodat-block": "-1 EPERM",
  "mknod-fifo": "0 -", // fifos are fine
  open_by_handle_at: "-1 EPERM",
  swapon: "-1 EPERM",
  acct: "-1 EPERM",
  syslog: "-1 EPERM",
  "setuid-0": "-1 EINVAL", // host root is not mapped into the user namespace at all
  sethostname: "-1 EPERM",
  fsopen: "-1 EPERM",
  open_tree: "-1 EPERM",
  iopl: "-1 EPERM",
  personality: "-1 EPERM",
};

describe("forbidden system calls from C", () => {
  it("each fails with its exact errno, and the program carries on", async () => {
    if (os.arch() !== "x64") return expect.fail("the foreign-ABI programs below are x86_64's; add this arch's");
    const result = await run(job("c", "main.c", PROGRAM));
    expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok", exitCode: 0 } });
    const got = Object.fromEntries(result.run!.stdout.trim().split("\n").map((line) => [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)]));
    expect(got).toEqual(EXPECTED);
  });

  it("the i386 ABI (int 0x80) kills the process with SIGSYS", async () => {
    const program = 'int main(void) { long rc; __asm__ volatile ("int $0x80" : "=a"(rc) : "a"(20)); return (int)rc; }';
    const result = await run(job("c", "main.c", program));
    expect(result).toMatchObject({ verdict: "runtime_error", run: { status: "runtime_error", exitCode: null, signal: "SIGSYS" } });
  });

  it("the x32 ABI (syscall number | 0x40000000) kills the process with SIGSYS", async () => {
    const program = '#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { return (int)syscall(0x40000000 | SYS_getpid); }';
    const result = await run(job("c", "main.c", program));
    expect(result).toMatchObject({ verdict: "runtime_error", run: { status: "runtime_error", exitCode: null, signal: "SIGSYS" } });
  });
});
