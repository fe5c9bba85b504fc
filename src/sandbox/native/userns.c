/* User namespace: map one inside uid/gid to one host uid/gid.
 *
 * Rootless (the normal case): the host side of the map is the runner's own
 * uid, which an unprivileged process may map (after writing "deny" to
 * setgroups, which closes the CVE-2014-8989 hole of dropping groups to gain access).
 * As root, the map points at an unprivileged host uid (--sandbox-uid,
 * default nobody): host root is never mapped into a sandbox, so files owned
 * by host root (e.g. /etc/shadow) stay out of reach even through a bind.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <unistd.h>

int userns_write_maps(pid_t pid, uid_t in_uid, uid_t out_uid, gid_t in_gid, gid_t out_gid, bool privileged, struct failure *f) {
  char path[64], line[64];
  if (!privileged) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    if (write_file(path, "deny") < 0) { fail_set(f, "userns-setgroups", errno); return -1; }
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  snprintf(line, sizeof line, "%u %u 1\n", in_uid, out_uid);
  if (write_file(path, line) < 0) { fail_set(f, "userns-uid-map", errno); return -1; }
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  snprintf(line, sizeof line, "%u %u 1\n", in_gid, out_gid);
  if (write_file(path, line) < 0) { fail_set(f, "userns-gid-map", errno); return -1; }
  return 0;
}

/* Take on the inside identity. As root we also drop the supplementary groups
 * inherited from host root (they would carry kgid 0 into the sandbox). */
int userns_become(uid_t uid, gid_t gid, bool privileged, struct failure *f) {
  if (privileged && setgroups(0, NULL) < 0) { fail_set(f, "setgroups", errno); return -1; }
  if (setresgid(gid, gid, gid) < 0) { fail_set(f, "setresgid", errno); return -1; }
  if (setresuid(uid, uid, uid) < 0) { fail_set(f, "setresuid", errno); return -1; }
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
  if (saved->securebits < 0 || prctl(PR_SET_SECUREBITS, saved->securebits | SECBIT_NO_SETUID_FIXUP) < 0) { fail_set(f, "userns-owner", errno); return -1; }
  if (setresgid((gid_t)-1, gid, (gid_t)-1) < 0 || setresuid((uid_t)-1, uid, (uid_t)-1) < 0) {
    int e = errno;
    (void)!setresgid((gid_t)-1, 0, (gid_t)-1); /* our euid is still 0: it cannot fail */
    prctl(PR_SET_SECUREBITS, saved->securebits);
    fail_set(f, "userns-owner", e);
    return -1;
  }
  return 0;
}

int userns_owner_restore(const struct userns_owner *saved, struct failure *f) {
  if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0) { fail_set(f, "userns-owner", errno); return -1; }
  if (prctl(PR_SET_SECUREBITS, saved->securebits) < 0) { fail_set(f, "userns-owner", errno); return -1; }
  /* a change of effective uid made us non-dumpable: as we were */
  prctl(PR_SET_DUMPABLE, 1);
  return 0;
}
