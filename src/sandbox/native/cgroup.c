/* cgroups: a container's own cgroup under the delegated parent(s), its first
 * execution's (docs/launcher.md, "The container's cgroup"), and a fresh
 * cgroup per later execution below it, entered by the program before exec,
 * read for accounting, killed and removed after. cgroup v2 takes one parent; v1 one parent per hierarchy
 * (memory, pids, cpu, cpuacct, possibly co-mounted). The version of each
 * parent is read from its filesystem magic, its controllers from its files. */
#include "launcher.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define LIMIT "memory.limit_in_bytes"
#define MEMSW "memory.memsw.limit_in_bytes"
#define MEMORY_LIMIT_UNKNOWN (-2LL)

static bool has(int dirfd, const char *file) { return faccessat(dirfd, file, F_OK, 0) == 0; }

/* Writes VALUE ("max" when negative) to FILE; STEP names the failure.
 * OPTIONAL: a file this kernel or hierarchy lacks is no failure. */
static int set(int dirfd, const char *file, enum step step, long long value, bool optional, struct failure *f) {
  char v[32];
  if (value < 0) snprintf(v, sizeof v, "max"); else snprintf(v, sizeof v, "%lld", value);
  if (write_fileat(dirfd, file, v) < 0) {
    if (optional && errno == ENOENT) return 0;
    fail_set(f, step, errno);
    return -1;
  }
  return 0;
}

/* Remove the empty cgroup NAME below PARENT, its empty children first. A
 * cgroup with members is never touched (errno EEXIST). */
static int remove_empty(int parent, const char *name) {
  int d = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return -1;
  char buf[64];
  if (read_fileat(d, "cgroup.procs", buf, sizeof buf) != 0) { close(d); errno = EEXIST; return -1; }
  int dup_fd = dup(d);
  DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
  if (!dir) { if (dup_fd >= 0) close(dup_fd); close(d); return -1; }
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(dir)))
    if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) rc = remove_empty(d, e->d_name);
  closedir(dir);
  close(d);
  if (rc < 0) return -1;
  return unlinkat(parent, name, AT_REMOVEDIR);
}

/* NAME exists: left by an earlier launcher with our pid, which is dead (we have its pid now).
 * Take it over when it and its children are empty. */
static int reclaim(int parent, const char *name) {
  if (remove_empty(parent, name) < 0) return -1;
  return mkdirat(parent, name, 0755);
}

/* Makes NAME below each of PARENTS (one per hierarchy) and opens it. */
static int make_named(struct cgroup *cg, const char *const *parents, int nparents, const char *name, struct failure *f) {
  memset(cg, 0, sizeof *cg);
  for (int i = 0; i < nparents; i++) {
    int parent = open(parents[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) { fail_set(f, STEP_CGROUP_OPEN_PARENT, errno); return -1; }
    struct statfs sf;
    if (fstatfs(parent, &sf) < 0 || (sf.f_type != CGROUP2_SUPER_MAGIC && sf.f_type != CGROUP_SUPER_MAGIC)) {
      close(parent); fail_set(f, STEP_CGROUP_NOT_CGROUPFS, ENOTDIR); return -1;
    }
    if (mkdirat(parent, name, 0755) < 0 && !(errno == EEXIST && reclaim(parent, name) == 0)) {
      int e = errno; close(parent); fail_set(f, STEP_CGROUP_MKDIR, e); return -1;
    }
    int d = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(parent);
    cg->n = i + 1;
    cg->h[i].dirfd = d;
    cg->h[i].procs_fd = -1;
    snprintf(cg->h[i].path, sizeof cg->h[i].path, "%s/%s", parents[i], name);
    if (d < 0) { fail_set(f, STEP_CGROUP_OPEN, errno); return -1; }
    bool v2 = sf.f_type == CGROUP2_SUPER_MAGIC;
    cg->h[i].v2 = v2;
    cg->h[i].memory = has(d, v2 ? "memory.max" : "memory.limit_in_bytes");
    cg->h[i].pids = has(d, "pids.max");
    cg->h[i].cpu = has(d, v2 ? "cpu.max" : "cpu.cfs_quota_us");
    cg->h[i].cpuacct = v2 ? has(d, "cpu.stat") : has(d, "cpuacct.usage");
    cg->h[i].memsw = !v2 && cg->h[i].memory && has(d, MEMSW);
    cg->h[i].memory_limit = LLONG_MAX; /* none yet */
    cg->h[i].own_memory = cg->h[i].own_pids = MEMORY_LIMIT_UNKNOWN;
    cg->h[i].set_memory = cg->h[i].set_pids = cg->h[i].set_cpu = -1;
  }
  return 0;
}

/* v2: OWN's children get the controllers it has (a cgroup that hands
 * controllers down holds no process itself: init stays outside, and a first
 * execution that ran in OWN has ended) */
static int hand_down(struct cgroup *own, struct failure *f) {
  for (int i = 0; i < own->n; i++) {
    if (!own->h[i].v2) continue;
    char have[256], *save = NULL;
    if (read_fileat(own->h[i].dirfd, "cgroup.controllers", have, sizeof have) < 0) { fail_set(f, STEP_CGROUP_CONTROLLERS, errno); return -1; }
    for (char *c = strtok_r(have, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
      if (strcmp(c, "memory") && strcmp(c, "pids") && strcmp(c, "cpu")) continue;
      char add[16];
      snprintf(add, sizeof add, "+%s", c);
      if (write_fileat(own->h[i].dirfd, "cgroup.subtree_control", add) < 0) { fail_set(f, STEP_CGROUP_SUBTREE_CONTROL, errno); return -1; }
    }
  }
  return 0;
}

/* The file a process enters CG by: v1 "tasks", which moves one thread (it
 * has only one then). Writing cgroup.procs moves a thread group, which takes
 * the global cgroup_threadgroup_rwsem for writing, and that first waits for
 * an RCU grace period (5-15 ms here); current kernels skip the lock for a
 * thread moving itself (measured on 6.18). v2 has no such file: cgroup.procs. */
static int open_procs(struct cgroup *cg, int i, struct failure *f) {
  cg->h[i].procs_fd = openat(cg->h[i].dirfd, cg->h[i].v2 ? "cgroup.procs" : "tasks", O_WRONLY | O_CLOEXEC);
  if (cg->h[i].procs_fd < 0) { fail_set(f, STEP_CGROUP_OPEN_PROCS, errno); return -1; }
  return 0;
}

int cgroup_make_own(struct cgroup *own, const char *const *parents, int nparents, bool flat, struct failure *f) {
  char name[32];
  snprintf(name, sizeof name, "warren-%d", getpid());
  if (make_named(own, parents, nparents, name, f) < 0) return -1;
  if (!flat) return hand_down(own, f);
  /* its first execution runs in it: entered as an execution's cgroup is */
  for (int i = 0; i < own->n; i++) if (open_procs(own, i, f) < 0) return -1;
  return 0;
}

int cgroup_split_own(struct cgroup *own, struct failure *f) {
  for (int i = 0; i < own->n; i++) {
    /* no process enters it any more */
    if (own->h[i].procs_fd >= 0) { close(own->h[i].procs_fd); own->h[i].procs_fd = -1; }
    int d = own->h[i].dirfd;
    own->h[i].set_cpu = own->h[i].set_memory = MEMORY_LIMIT_UNKNOWN; /* written here, not by cgroup_limit */
    /* the first execution's CPU quota and OOM grouping were its own: each
     * execution below has its own (a bound of the container's CPU would
     * also cap every later one's) */
    if (own->h[i].cpu && (own->h[i].v2 ? write_fileat(d, "cpu.max", "max") : write_fileat(d, "cpu.cfs_quota_us", "-1")) < 0) {
      fail_set(f, own->h[i].v2 ? STEP_CGROUP_SET_CPU_MAX : STEP_CGROUP_SET_CPU_QUOTA, errno);
      return -1;
    }
    if (own->h[i].v2 && own->h[i].memory && set(d, "memory.oom.group", STEP_CGROUP_SET_MEMORY_OOM_GROUP, 0, true, f)) return -1;
  }
  return hand_down(own, f);
}

int cgroup_make_in(struct cgroup *cg, const struct cgroup *own, const char *name, struct failure *f) {
  memset(cg, 0, sizeof *cg);
  for (int i = 0; i < own->n; i++) {
    /* below the container's own: the same file system, and the controllers
     * it has (v2: handed down to its children), so nothing is looked up again */
    int parent = own->h[i].dirfd;
    if (mkdirat(parent, name, 0755) < 0 && !(errno == EEXIST && reclaim(parent, name) == 0)) { fail_set(f, STEP_CGROUP_MKDIR, errno); return -1; }
    cg->h[i] = own->h[i];
    memset(cg->h[i].stat1, 0, sizeof cg->h[i].stat1); /* the container's own files are not this one's */
    cg->h[i].memory_limit = LLONG_MAX;
    cg->h[i].own_memory = cg->h[i].own_pids = MEMORY_LIMIT_UNKNOWN;
    cg->h[i].set_memory = cg->h[i].set_pids = cg->h[i].set_cpu = -1;
    cg->h[i].procs_fd = -1;
    cg->h[i].dirfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cg->n = i + 1;
    snprintf(cg->h[i].path, sizeof cg->h[i].path, "%s/%s", own->h[i].path, name);
    if (cg->h[i].dirfd < 0) { fail_set(f, STEP_CGROUP_OPEN, errno); return -1; }
    if (open_procs(cg, i, f) < 0) return -1;
  }
  return 0;
}

static int set_v1(int dirfd, const char *file, enum step step, long long bytes, struct failure *f) {
  char v[32];
  snprintf(v, sizeof v, "%lld", bytes < 0 ? -1LL : bytes); /* v1 spells "no limit" -1 */
  if (write_fileat(dirfd, file, v) == 0) return 0;
  fail_set(f, step, errno);
  return -1;
}

/* v1, BYTES < 0 for none: memsw may not be below the limit at any moment, so
 * memsw is raised first and the limit lowered first */
static int set_memory_v1(struct cgroup *cg, int i, long long bytes, struct failure *f) {
  int d = cg->h[i].dirfd;
  bool memsw = cg->h[i].memsw;
  long long now = cg->h[i].memory_limit; /* the last one written here (only the launcher writes it) */
  if (now == MEMORY_LIMIT_UNKNOWN) now = read_keyed(d, LIMIT, NULL);
  int rc;
  if (memsw && (bytes < 0 || (now >= 0 && bytes > now)))
    rc = set_v1(d, MEMSW, STEP_CGROUP_SET_MEMSW_LIMIT, bytes, f) || set_v1(d, LIMIT, STEP_CGROUP_SET_MEMORY_LIMIT, bytes, f) ? -1 : 0;
  else
    rc = set_v1(d, LIMIT, STEP_CGROUP_SET_MEMORY_LIMIT, bytes, f) || (memsw && set_v1(d, MEMSW, STEP_CGROUP_SET_MEMSW_LIMIT, bytes, f)) ? -1 : 0;
  /* a failure may have left either written: read again next time */
  cg->h[i].memory_limit = rc < 0 ? MEMORY_LIMIT_UNKNOWN : bytes >= 0 ? bytes : LLONG_MAX;
  return rc;
}

int cgroup_limit(struct cgroup *cg, const struct opts *o, struct failure *f) {
  return cgroup_limits(cg, o->memory_mb, o->pids, o->cpus, f);
}

/* The memory limit BYTES (-1: none, the kernel's defaults) in hierarchy I */
static int limit_memory(struct cgroup *cg, int i, long long bytes, struct failure *f) {
  int d = cg->h[i].dirfd;
  if (cg->h[i].v2)
    return set(d, "memory.max", STEP_CGROUP_SET_MEMORY_MAX, bytes, false, f) || set(d, "memory.swap.max", STEP_CGROUP_SET_MEMORY_SWAP_MAX, bytes < 0 ? -1 : 0, true, f) ||
                   set(d, "memory.oom.group", STEP_CGROUP_SET_MEMORY_OOM_GROUP, bytes < 0 ? 0 : 1, true, f)
               ? -1
               : 0;
  if (set_memory_v1(cg, i, bytes, f) < 0) return -1;
  struct failure ignored; /* best effort: no limit rests on it (memsw, where there is swap accounting, bounds swap) */
  if (bytes > 0) set(d, "memory.swappiness", STEP_CGROUP_SET_SWAPPINESS, 0, true, &ignored);
  return 0;
}

/* CPU quota QUOTA µs per 100 ms (-1: none) in hierarchy I */
static int limit_cpu(struct cgroup *cg, int i, long long quota, struct failure *f) {
  int d = cg->h[i].dirfd;
  if (cg->h[i].v2) {
    char v[64];
    if (quota < 0) snprintf(v, sizeof v, "max 100000"); else snprintf(v, sizeof v, "%lld 100000", quota);
    if (write_fileat(d, "cpu.max", v) < 0) { fail_set(f, STEP_CGROUP_SET_CPU_MAX, errno); return -1; }
    return 0;
  }
  /* v1's period is left as it is: an execution's cgroup is new, and a new
   * one's period is the kernel's default, 100000 µs, whatever its parent's */
  return set_v1(d, "cpu.cfs_quota_us", STEP_CGROUP_SET_CPU_QUOTA, quota, f);
}

/* Writes each limit that differs from what is there (set_*): a limit asked
 * for; or none, where one was written before (by the limits written ahead). */
int cgroup_limits(struct cgroup *cg, long memory_mb, long pids, double cpus, struct failure *f) {
  bool mem = false, pid = false, cpu = false;
  long long want_memory = memory_mb > 0 ? (long long)memory_mb << 20 : -1;
  long long want_pids = pids > 0 ? pids : -1;
  long long want_cpu = cpus > 0 ? (long long)(cpus * 100000) : -1;
  for (int i = 0; i < cg->n; i++) {
    if (cg->h[i].memory) {
      if (cg->h[i].set_memory != want_memory && (want_memory > 0 || cg->h[i].set_memory > 0)) {
        cg->h[i].set_memory = MEMORY_LIMIT_UNKNOWN; /* until all of it is written */
        if (limit_memory(cg, i, want_memory, f) < 0) return -1;
        cg->h[i].set_memory = want_memory;
      }
      mem = true;
    }
    if (cg->h[i].pids) {
      if (cg->h[i].set_pids != want_pids && (want_pids > 0 || cg->h[i].set_pids > 0)) {
        cg->h[i].set_pids = MEMORY_LIMIT_UNKNOWN;
        if (set(cg->h[i].dirfd, "pids.max", STEP_CGROUP_SET_PIDS_MAX, want_pids, false, f)) return -1;
        cg->h[i].set_pids = want_pids;
      }
      pid = true;
    }
    if (cg->h[i].cpu) {
      if (cg->h[i].set_cpu != want_cpu && (want_cpu > 0 || cg->h[i].set_cpu > 0)) {
        cg->h[i].set_cpu = MEMORY_LIMIT_UNKNOWN;
        if (limit_cpu(cg, i, want_cpu, f) < 0) return -1;
        cg->h[i].set_cpu = want_cpu;
      }
      cpu = true;
    }
  }
  /* a limit asked for but not enforceable is a failure, never a silent pass */
  if (memory_mb > 0 && !mem) { fail_set(f, STEP_CGROUP_NO_MEMORY_CONTROLLER, ENOENT); return -1; }
  if (pids > 0 && !pid) { fail_set(f, STEP_CGROUP_NO_PIDS_CONTROLLER, ENOENT); return -1; }
  if (cpus > 0 && !cpu) { fail_set(f, STEP_CGROUP_NO_CPU_CONTROLLER, ENOENT); return -1; }
  return 0;
}

/* What the container's cgroup allows beyond the running execution's memory
 * and the scratch layer: the program made ahead for the next request, and
 * what the kernel has not yet freed of earlier executions (an IPC namespace
 * is freed after an RCU grace period). */
#define OWN_SLACK_MB 16

int cgroup_limit_own(struct cgroup *own, const struct opts *o, long extra_mb, long extra_pids, struct failure *f) {
  for (int i = 0; i < own->n; i++) {
    int d = own->h[i].dirfd;
    /* only the launcher writes these: an execution with the same limits as the
     * one before (a function's every invocation) leaves them as they are */
    if (own->h[i].memory) {
      long long bytes = o->memory_mb > 0 ? ((long long)o->memory_mb + extra_mb + o->scratch_mb + OWN_SLACK_MB) << 20 : -1;
      if (own->h[i].own_memory != bytes) {
        own->h[i].own_memory = MEMORY_LIMIT_UNKNOWN; /* until both files are written */
        own->h[i].set_memory = MEMORY_LIMIT_UNKNOWN;  /* no longer what cgroup_limit wrote */
        if (own->h[i].v2 ? set(d, "memory.max", STEP_CGROUP_SET_MEMORY_MAX, bytes, false, f) || set(d, "memory.swap.max", STEP_CGROUP_SET_MEMORY_SWAP_MAX, 0, true, f)
                         : set_memory_v1(own, i, bytes, f)) return -1;
        own->h[i].own_memory = bytes;
      }
    }
    long long pids = o->pids > 0 ? o->pids + extra_pids : -1;
    if (own->h[i].pids && own->h[i].own_pids != pids) {
      own->h[i].own_pids = MEMORY_LIMIT_UNKNOWN;
      own->h[i].set_pids = MEMORY_LIMIT_UNKNOWN;
      if (set(d, "pids.max", STEP_CGROUP_SET_PIDS_MAX, pids, false, f)) return -1;
      own->h[i].own_pids = pids;
    }
  }
  return 0;
}

int cgroup_enter(const struct cgroup *cg) {
  for (int i = 0; i < cg->n; i++) {
    if (cg->entered && cg->h[i].v2) continue; /* born in it (CLONE_INTO_CGROUP) */
    if (write_all(cg->h[i].procs_fd, "0", 1) < 0) return -1;
  }
  return 0;
}

void cgroup_close_fds(struct cgroup *cg) {
  cgroup_close_stats(cg);
  for (int i = 0; i < cg->n; i++) {
    if (cg->h[i].dirfd >= 0) close(cg->h[i].dirfd);
    if (cg->h[i].procs_fd >= 0) close(cg->h[i].procs_fd);
    cg->h[i].dirfd = cg->h[i].procs_fd = -1;
  }
}

int cgroup_handoff_fds(const struct cgroup *cg, int *fds) {
  int n = 0;
  for (int i = 0; i < cg->n; i++) {
    if (cg->h[i].v2) fds[n++] = cg->h[i].dirfd;
    fds[n++] = cg->h[i].procs_fd;
  }
  return n;
}

void cgroup_from_fds(struct cgroup *cg, const int *fds, int n) {
  memset(cg, 0, sizeof *cg);
  for (int i = 0; i < n && cg->n < MAX_CGROUPS; i++) {
    struct stat st;
    bool dir = fstat(fds[i], &st) == 0 && S_ISDIR(st.st_mode);
    int k = cg->n++;
    cg->h[k].v2 = dir;
    cg->h[k].dirfd = dir ? fds[i] : -1;
    cg->h[k].procs_fd = dir && i + 1 < n ? fds[++i] : fds[i];
  }
}

/* struct clone_args of clone3(2), as far as CLONE_INTO_CGROUP (Linux 5.7) */
struct clone_args_v2 { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; };
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

pid_t cgroup_fork(struct cgroup *cg, bool *refused) {
  cg->entered = false;
  for (int i = 0; i < cg->n; i++) {
    /* as root the sandbox user may not write a root-owned cgroup: the fd handed over may */
    if (!cg->h[i].v2 || cg->h[i].dirfd < 0 || *refused) continue;
    /* cgroup v2: the child is born in its cgroup, so nothing has to be moved
     * (a move takes the global cgroup_threadgroup_rwsem, whose write side
     * first waits for an RCU grace period) */
    struct clone_args_v2 a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_INTO_CGROUP;
    a.exit_signal = SIGCHLD;
    a.cgroup = (uint64_t)cg->h[i].dirfd;
    long p = syscall(SYS_clone3, &a, sizeof a);
    if (p >= 0) { cg->entered = true; return (pid_t)p; }
    if (errno == EACCES || errno == EPERM || errno == ENOSYS) *refused = true;
    break; /* an older kernel, or refused: fork, and the child enters by cgroup.procs */
  }
  return fork();
}

enum { STAT_CPU, STAT_PEAK, STAT_OOM };

/* A statistics file of hierarchy I read from its start (pread at 0: a cgroup
 * file is a seq_file, which shows its values afresh at offset 0), opened on
 * the first reading and kept: an execution's usage is read on its CPU tick,
 * before a usage frame and at its end, and each open and close of a cgroup
 * file costs more than its read. Not cgroup.procs: v1 keeps the pid list an
 * open file read for a second, and a list read again through it could be
 * stale. */
static long long read_stat(struct cgroup *cg, int i, int which, const char *file, const char *key) {
  int fd = cg->h[i].stat1[which] - 1;
  if (fd < 0) {
    fd = openat(cg->h[i].dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    cg->h[i].stat1[which] = fd + 1;
  }
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n < 0) return -1;
  buf[n] = 0;
  return keyed_value(buf, key);
}

void cgroup_close_stats(struct cgroup *cg) {
  for (int i = 0; i < cg->n; i++)
    for (int k = 0; k < 3; k++) {
      if (cg->h[i].stat1[k] > 0) close(cg->h[i].stat1[k] - 1);
      cg->h[i].stat1[k] = 0;
    }
}

long long cgroup_cpu_us(struct cgroup *cg) {
  for (int i = 0; i < cg->n; i++) {
    if (!cg->h[i].cpuacct) continue;
    if (cg->h[i].v2) return read_stat(cg, i, STAT_CPU, "cpu.stat", "usage_usec");
    long long ns = read_stat(cg, i, STAT_CPU, "cpuacct.usage", NULL);
    return ns < 0 ? -1 : ns / 1000;
  }
  return -1;
}

long long cgroup_peak_bytes(struct cgroup *cg) {
  for (int i = 0; i < cg->n; i++)
    if (cg->h[i].memory) return read_stat(cg, i, STAT_PEAK, cg->h[i].v2 ? "memory.peak" : "memory.max_usage_in_bytes", NULL);
  return -1;
}

long long cgroup_oom_kills(struct cgroup *cg) {
  for (int i = 0; i < cg->n; i++)
    if (cg->h[i].memory) return read_stat(cg, i, STAT_OOM, cg->h[i].v2 ? "memory.events" : "memory.oom_control", "oom_kill");
  return -1;
}

static bool listed(int dirfd, pid_t pid) {
  char buf[65536];
  if (read_fileat(dirfd, "cgroup.procs", buf, sizeof buf) < 0) return false;
  for (char *p = buf; *p; ) {
    if (strtol(p, &p, 10) == pid) return true;
    while (*p == '\n') p++;
  }
  return false;
}

/* Kill every process in the cgroup and wait until it is empty. v2 has
 * cgroup.kill; on v1 each pid is pinned with a pidfd and checked to still be
 * a member before it is signalled, so a recycled pid is never hit. */
int cgroup_count(const struct cgroup *cg) {
  if (cg->n == 0) return -1;
  char buf[65536];
  if (read_fileat(cg->h[0].dirfd, "cgroup.procs", buf, sizeof buf) < 0) return -1;
  int n = 0;
  for (char *p = buf; *p; ) {
    pid_t pid = (pid_t)strtol(p, &p, 10);
    while (*p == '\n') p++;
    if (pid > 0) n++;
  }
  return n;
}

void cgroup_kill_all(const struct cgroup *cg) {
  if (cg->n == 0) return;
  int d = cg->h[0].dirfd;
  if (cg->h[0].v2) write_fileat(d, "cgroup.kill", "1");
  for (int round = 0; round < 2000; round++) {
    char buf[65536];
    if (read_fileat(d, "cgroup.procs", buf, sizeof buf) <= 0) return;
    bool any = false;
    for (char *p = buf; *p; ) {
      pid_t pid = (pid_t)strtol(p, &p, 10);
      while (*p == '\n') p++;
      if (pid <= 0) continue;
      any = true;
      int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
      if (pfd < 0) continue;
      if (listed(d, pid)) syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
      close(pfd);
    }
    if (!any) return;
    struct timespec ts = { 0, round < 10 ? 100000 : 1000000 };
    nanosleep(&ts, NULL);
  }
}

/* A user's signal, not a kill: one pass, each process by its pidfd, and only
 * while it is still listed (its pid cannot have been reused by then) */
void cgroup_signal_all(const struct cgroup *cg, int sig) {
  if (cg->n == 0) return;
  int d = cg->h[0].dirfd;
  char buf[65536];
  if (read_fileat(d, "cgroup.procs", buf, sizeof buf) <= 0) return;
  for (char *p = buf; *p; ) {
    pid_t pid = (pid_t)strtol(p, &p, 10);
    while (*p == '\n') p++;
    if (pid <= 0) continue;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) continue;
    if (listed(d, pid)) syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
    close(pfd);
  }
}

void cgroup_destroy(struct cgroup *cg) {
  cgroup_kill_all(cg);
  cgroup_close_stats(cg);
  for (int i = 0; i < cg->n; i++) {
    if (cg->h[i].procs_fd >= 0) close(cg->h[i].procs_fd);
    if (cg->h[i].dirfd >= 0) close(cg->h[i].dirfd);
    for (int tries = 0; tries < 1000; tries++) {
      if (rmdir(cg->h[i].path) == 0 || errno != EBUSY) break;
      struct timespec ts = { 0, 200000 };
      nanosleep(&ts, NULL);
    }
  }
  cg->n = 0;
}
