/* contain: what a container runtime does to the process it starts, as far as
 * Warren's tests need it, then exec. Real kernel state, no mocks:
 *
 *   contain [--userns-root] [--mask PATH]... [--ro PATH]... [--deny NAME=ERRNO]... -- PROGRAM [ARG...]
 *
 *   --mask PATH     bind /dev/null over PATH (a runtime's masked /proc entries; a
 *                   /proc entry in every procfs mounted here)
 *   --ro PATH       bind PATH over itself read-only (a read-only cgroup mount)
 *   --userns-root   a new user namespace in which the caller is uid 0 (a rootless
 *                   runtime's container root), its one uid and gid mapped
 *   --deny NAME=E   a seccomp filter: system call NAME fails with errno E
 *                   (a runtime's profile), every other allowed
 *   --keep-caps M   only the capabilities of mask M (e.g. 0x80000000: CAP_SETFCAP)
 *                   stay in the bounding set, as a runtime's --cap-drop=all
 *                   --cap-add=… leaves them: what the program gets at exec
 *   --cgroupns      a cgroup namespace rooted at the caller's cgroup, and a
 *                   cgroup2 mounted read-write at /sys/fs/cgroup: a
 *                   container's own cgroup as a runtime shows it on cgroup v2
 *                   (podman's unmask=/sys/fs/cgroup, a delegated rootless one)
 *
 * --mask, --ro and --cgroupns need a mount namespace of their own: as root, just that; as
 * anyone else, inside a user namespace mapping the caller's uid to itself (the
 * mounts are then locked for the namespaces the launcher makes below, as a
 * runtime's are). The filter is installed last, with no_new_privs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "contain: add this architecture"
#endif

static const struct { const char *name; long nr; } calls[] = {
  { "sethostname", SYS_sethostname }, { "setdomainname", SYS_setdomainname }, { "unshare", SYS_unshare },
  { "mount", SYS_mount }, { "pivot_root", SYS_pivot_root }, { "setns", SYS_setns },
};

static void die(const char *what) { fprintf(stderr, "contain: %s: %s\n", what, strerror(errno)); exit(126); }

static long syscall_nr(const char *name) {
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) if (!strcmp(calls[i].name, name)) return calls[i].nr;
  fprintf(stderr, "contain: unknown system call %s\n", name);
  exit(126);
}

static void write_to(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
  close(fd);
}

/* Binds /dev/null over PATH, and, for a /proc entry, over the same entry of
 * every other procfs mounted here: the kernel allows a fresh procfs while any
 * one is fully visible, and a runtime's container has only its own /proc
 * (some machines mount a second one, e.g. a VM's initramfs). */
static void mask_everywhere(const char *path) {
  if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) die(path);
  if (strncmp(path, "/proc/", 6)) return;
  FILE *info = fopen("/proc/self/mountinfo", "re");
  if (!info) die("/proc/self/mountinfo");
  char line[4096], root[1024], point[1024], type[64], other[2048];
  while (fgets(line, sizeof line, info)) {
    char *dash = strstr(line, " - ");
    if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2 || sscanf(dash, " - %63s", type) != 1) continue;
    if (strcmp(type, "proc") || strcmp(root, "/") || !strcmp(point, "/proc")) continue;
    snprintf(other, sizeof other, "%s%s", point, path + 5);
    if (access(other, F_OK) == 0 && mount("/dev/null", other, NULL, MS_BIND, NULL) < 0) die(other);
  }
  fclose(info);
}

#define MAX 16
int main(int argc, char **argv) {
  const char *masks[MAX], *ros[MAX];
  long deny_nr[MAX];
  int deny_errno[MAX], nmask = 0, nro = 0, ndeny = 0, i = 1;
  int userns_root = 0, cgroupns = 0, keep = 0;
  unsigned long long keep_caps = 0;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--userns-root")) userns_root = 1;
    else if (!strcmp(argv[i], "--cgroupns")) cgroupns = 1;
    else if (!strcmp(argv[i], "--keep-caps") && i + 1 < argc) { keep = 1; keep_caps = strtoull(argv[++i], NULL, 0); }
    else if (!strcmp(argv[i], "--mask") && i + 1 < argc && nmask < MAX) masks[nmask++] = argv[++i];
    else if (!strcmp(argv[i], "--ro") && i + 1 < argc && nro < MAX) ros[nro++] = argv[++i];
    else if (!strcmp(argv[i], "--deny") && i + 1 < argc && ndeny < MAX) {
      char *spec = argv[++i], *eq = strchr(spec, '=');
      if (!eq) { fprintf(stderr, "contain: --deny NAME=ERRNO\n"); return 126; }
      *eq = 0;
      deny_nr[ndeny] = syscall_nr(spec);
      deny_errno[ndeny++] = atoi(eq + 1);
    } else { fprintf(stderr, "contain: bad option %s\n", argv[i]); return 126; }
  }
  if (i + 1 >= argc) { fprintf(stderr, "usage: contain [OPTIONS] -- PROGRAM [ARG...]\n"); return 126; }
  uid_t uid = geteuid();
  gid_t gid = getegid();
  int mounts = nmask || nro || cgroupns;
  if (userns_root || (mounts && uid != 0)) {
    char map[64];
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) die("unshare(user, mount)");
    write_to("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1", userns_root ? 0 : uid, uid);
    write_to("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "%u %u 1", userns_root ? 0 : gid, gid);
    write_to("/proc/self/gid_map", map);
  } else if (mounts) {
    if (unshare(CLONE_NEWNS) < 0) die("unshare(mount)");
  }
  /* after the user namespace: it owns the cgroup namespace, and so may mount its cgroup2 */
  if (cgroupns && unshare(CLONE_NEWCGROUP) < 0) die("unshare(cgroup)");
  if (mounts) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make mounts private");
    /* cgroup2 has one superblock, which the kernel refuses to mount on its own
     * mount's root (EBUSY): it goes on a tmpfs, as a runtime's goes on the
     * container's root file system */
    if (cgroupns && (mount("tmpfs", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k") < 0 ||
                     mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)) die("mount cgroup2 on /sys/fs/cgroup");
    for (int k = 0; k < nmask; k++) mask_everywhere(masks[k]);
    for (int k = 0; k < nro; k++)
      if (mount(ros[k], ros[k], NULL, MS_BIND | MS_REC, NULL) < 0 ||
          mount(NULL, ros[k], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die(ros[k]);
  }
  /* a root program gets its bounding set at exec: dropping from it is dropping for good */
  for (int cap = 0; keep && cap < 64; cap++)
    if (!(keep_caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die("PR_CAPBSET_DROP");
  if (ndeny) {
    struct sock_filter f[4 + 2 * MAX];
    int n = 0;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int k = 0; k < ndeny; k++) {
      f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deny_nr[k], 0, 1);
      f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (deny_errno[k] & SECCOMP_RET_DATA));
    }
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = { (unsigned short)n, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) die("seccomp");
  }
  execvp(argv[i + 1], argv + i + 1);
  die(argv[i + 1]);
}
