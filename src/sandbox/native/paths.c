/* Paths the sandbox may have shaped: the program's working directory
 * (--chdir, below a work dir whose contents earlier programs wrote) and the
 * work dir init writes a job's files into.
 *
 * runc's CVE-2024-21626 is the class: a process that still holds an fd of the
 * host's (there: a cgroup directory) resolves a path through a link the
 * sandbox planted, /box/sub -> /proc/self/fd/N, and lands on the host's tree,
 * where ".." walks up to the host's root. Two defences, both always applied:
 * every fd but the few the process needs is closed before it resolves
 * anything (close_fds_except), and the path is resolved with openat2 inside
 * the container's root, never through a /proc magic link (open_in_root).
 * The result is then checked to lie below the root (exec.c). */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int open_in_root(const char *path, int flags, bool no_symlinks) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    /* IN_ROOT: ".." and absolute links stop at the container's root; NO_MAGICLINKS:
     * /proc/<pid>/{fd/N,cwd,root,exe} are refused (ELOOP), whoever holds what */
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
  };
  int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
  int saved = errno;
  close(root);
  errno = saved;
  return fd;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int close_fds_except(const int *keep, int n) {
  int k[8], m = 0;
  for (int i = 0; i < n && m < 8; i++) if (keep[i] > 2) k[m++] = keep[i];
  qsort(k, (size_t)m, sizeof k[0], cmp_int);
  unsigned from = 3;
  for (int i = 0; i < m; i++) {
    if ((unsigned)k[i] > from && syscall(SYS_close_range, from, (unsigned)k[i] - 1, 0) < 0) return -1;
    if ((unsigned)k[i] >= from) from = (unsigned)k[i] + 1;
  }
  return syscall(SYS_close_range, from, ~0U, 0) < 0 ? -1 : 0;
}
