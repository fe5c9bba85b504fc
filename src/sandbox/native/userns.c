/* User namespace: map one inside uid/gid to one host uid/gid.
 *
 * Rootless (the normal case): the host side of the map is the runner's own
 * uid, which an unprivileged process may map (after writing "deny" to
 * setgroups, which closes the CVE-2014-8989 hole of dropping groups to gain access).
 * As root, the map points at an unprivileged host uid (--sandbox-uid,
 * default nobody): host root is never mapped into a sandbox, so files owned
 * by host root (e.g. /etc/shadow) stay out of reach even through a bind.
 * Root of a user namespace that maps it to another uid (a rootless or
 * user-namespaced container's root) is that unprivileged uid for the host,
 * and maps sandboxes to itself as any other user does (userns_host_root).
 */
#include "launcher.h"
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int userns_write_maps(pid_t pid, uid_t in_uid, uid_t out_uid, gid_t in_gid, gid_t out_gid, bool privileged, struct failure *f) {
  char path[64], line[64];
  if (!privileged) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    if (write_file(path, "deny") < 0) { fail_set(f, STEP_USERNS_SETGROUPS, errno); return -1; }
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  snprintf(line, sizeof line, "%u %u 1\n", in_uid, out_uid);
  if (write_file(path, line) < 0) { fail_set(f, STEP_USERNS_UID_MAP, errno); return -1; }
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  snprintf(line, sizeof line, "%u %u 1\n", in_gid, out_gid);
  if (write_file(path, line) < 0) { fail_set(f, STEP_USERNS_GID_MAP, errno); return -1; }
  return 0;
}

/* Take on the inside identity. As root we also drop the supplementary groups
 * inherited from host root (they would carry kgid 0 into the sandbox). */
int userns_become(uid_t uid, gid_t gid, bool privileged, struct failure *f) {
  if (privileged && setgroups(0, NULL) < 0) { fail_set(f, STEP_SETGROUPS, errno); return -1; }
  if (setresgid(gid, gid, gid) < 0) { fail_set(f, STEP_SETRESGID, errno); return -1; }
  if (setresuid(uid, uid, uid) < 0) { fail_set(f, STEP_SETRESUID, errno); return -1; }
  return 0;
}

/* As root, the container's user namespace is made while our effective uid
 * and gid are the sandbox's, so that the namespace is owned by the sandbox
 * uid and not by host root. The kernel charges per-user counters of every
 * process inside (pending signals, POSIX message queue bytes, processes,
 * inotify instances and watches, namespaces) to the inside uid and to the
 * namespace's owner in the parent namespace: owned by root, a job's 96,363
 * queued signals made root's own sigqueue() fail. SECBIT_NO_SETUID_FIXUP keeps
 * our effective capabilities through the change, so a host that lets only
 * privileged processes make user namespaces still lets us. Restored at once
 * after the clone (userns_owner_restore); nothing else runs in between. */
int userns_owner_become(uid_t uid, gid_t gid, struct userns_owner *saved, struct failure *f) {
  saved->securebits = prctl(PR_GET_SECUREBITS);
  if (saved->securebits < 0 || prctl(PR_SET_SECUREBITS, saved->securebits | SECBIT_NO_SETUID_FIXUP) < 0) { fail_set(f, STEP_USERNS_OWNER, errno); return -1; }
  if (setresgid((gid_t)-1, gid, (gid_t)-1) < 0 || setresuid((uid_t)-1, uid, (uid_t)-1) < 0) {
    int e = errno;
    (void)!setresgid((gid_t)-1, 0, (gid_t)-1); /* our euid is still 0: it cannot fail */
    prctl(PR_SET_SECUREBITS, saved->securebits);
    fail_set(f, STEP_USERNS_OWNER, e);
    return -1;
  }
  return 0;
}

int userns_owner_restore(const struct userns_owner *saved, struct failure *f) {
  if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0) { fail_set(f, STEP_USERNS_OWNER, errno); return -1; }
  if (prctl(PR_SET_SECUREBITS, saved->securebits) < 0) { fail_set(f, STEP_USERNS_OWNER, errno); return -1; }
  /* a change of effective uid made us non-dumpable: as we were */
  prctl(PR_SET_DUMPABLE, 1);
  return 0;
}

/* Per-user counters of the kernel, bounded for this container inside its own
 * user namespace (/proc/sys/user of a namespace holds the limits of that
 * namespace, writable by whoever has CAP_SYS_RESOURCE in it: init). Every
 * program runs as the one inside uid, so each bound is the whole container's
 * share; the kernel charges the same counts to the namespace's owner on the
 * host too (userns_owner_become), whose own limits are the host's.
 * Namespaces: programs may make none (seccomp says so too); each execution
 * gets a cgroup and an IPC namespace from its process before the filter
 * (program.c), and those are freed a little after it ends, so their bound
 * leaves room for bursts. */
static const struct { const char *name; long value; const char *host; } userns_limits[] = {
  { "max_user_namespaces", 0, NULL }, { "max_mnt_namespaces", 0, NULL }, { "max_pid_namespaces", 0, NULL },
  { "max_uts_namespaces", 0, NULL }, { "max_time_namespaces", 0, NULL },
  { "max_net_namespaces", 1, NULL },    /* the container's own, made by init's thread (net.c) */
  { "max_ipc_namespaces", 1024, NULL }, { "max_cgroup_namespaces", 1024, NULL },
  /* inotify: at most an eighth of what the host allows one user (whose limit
   * the owner's other containers and, rootless, the runner share), and no
   * more than a program needs (a 1 GiB machine allows 8192 watches per user) */
  { "max_inotify_instances", 16, "/proc/sys/fs/inotify/max_user_instances" },
  { "max_inotify_watches", 8192, "/proc/sys/fs/inotify/max_user_watches" },
  { "max_fanotify_groups", 0, NULL }, { "max_fanotify_marks", 0, NULL },
};
#define HOST_SHARE 8
/* A zygote host (--zygote-host): each child of its zygote makes one of each
 * namespace but time (zygote.c); namespaces are freed a little after their
 * last process ends (a network namespace by a kernel worker, later still on
 * a loaded machine: 16 ran out at a few hundred children a second), so the
 * bound leaves room for many in teardown. The children themselves can make
 * none: their filter denies it. */
#define ZYGOTE_NAMESPACES 64

int userns_set_limits(bool zygote_host, bool bind_proc, struct failure *f) {
  for (size_t i = 0; i < sizeof userns_limits / sizeof userns_limits[0]; i++) {
    long v = userns_limits[i].value;
    const char *name = userns_limits[i].name;
    if (zygote_host && !strncmp(name, "max_", 4) && strstr(name, "_namespaces") && strcmp(name, "max_time_namespaces") && v < ZYGOTE_NAMESPACES) v += ZYGOTE_NAMESPACES;
    char buf[32];
    /* the host's own per-user limit, read before our /proc is mounted */
    if (userns_limits[i].host && read_fileat(AT_FDCWD, userns_limits[i].host, buf, sizeof buf) > 0) {
      long host = strtol(buf, NULL, 10) / HOST_SHARE;
      if (host >= 1 && host < v) v = host;
    }
    char path[64], value[32];
    snprintf(path, sizeof path, "/proc/sys/user/%s", userns_limits[i].name);
    snprintf(value, sizeof value, "%ld", v);
    if (write_file(path, value) < 0) {
      /* a limit this kernel does not have (fanotify's came in 5.13) is not a failure */
      if (errno == ENOENT) continue;
      /* --bind-proc, where a runtime mounted /proc/sys read-only (Docker's and podman's
       * defaults): no procfs of ours can be had to write them through, so the container
       * goes without them, said (SECURITY.md, Inside a container: the namespaces stay
       * refused by the seccomp filter; inotify is bounded by the owner's limits only) */
      if (errno == EROFS && bind_proc) { f->degraded |= DEGRADED_USERNS_LIMITS; return 0; }
      fail_set(f, STEP_USERNS_LIMITS, errno);
      return -1;
    }
  }
  return 0;
}

/* Whether this launcher is the host's root: euid 0, and uid 0 of its user
 * namespace is uid 0 of the parent (the initial namespace, or one that maps
 * root to root). Such a launcher maps sandboxes to --sandbox-uid. Root of a
 * user namespace that maps 0 elsewhere (a rootless podman container's root,
 * a Kubernetes pod with hostUsers: false) is for the host the unprivileged
 * uid it maps to: it maps sandboxes to itself, as a non-root user does,
 * whatever capabilities it holds in its own namespace (with them dropped it
 * could not take the root's way at all). Unknown (no uid_map): as root. */
bool userns_host_root(void) {
  if (geteuid() != 0) return false;
  FILE *m = fopen("/proc/self/uid_map", "re");
  if (!m) return true;
  unsigned long in, out, count;
  bool host = true;
  while (fscanf(m, "%lu %lu %lu", &in, &out, &count) == 3) {
    if (in == 0) { host = out == 0; break; }
  }
  fclose(m);
  return host;
}
