/* A zygote: a function's runtime that has imported the function's code and
 * never sees an event; each invocation is a child forked from it into fresh
 * namespaces, a fresh cgroup and a fresh scratch (docs/functions.md, "The
 * zygote"; SECURITY.md, "What a zygote's child inherits").
 *
 *   the launcher ──MSG_FORK (fds)──▶ the zygote (a shim, in warren_zygote_next)
 *                                      └─ C1: a user namespace of its own, then
 *                                         mount, pid, ipc, uts, network namespaces;
 *                                         fresh /tmp, /dev/shm, work dir; root
 *                                         read-only. Reports its
 *                                         child's pid and end on the wait pipe,
 *                                         as init does for a program
 *                                           └─ C2: pid 1 of the new pid namespace:
 *                                              the execution's cgroup and a cgroup
 *                                              namespace; a /proc of its own, masked as the
 *                                              container's; stdio, rlimits, no capability,
 *                                              the program's seccomp filter on top
 *                                              of the zygote's, then back in the
 *                                              runtime, which serves the event
 *
 * This file is built into libwarren-zygote.so with the launcher's own files
 * (the steps they share are the same code), and loaded by the shim of a
 * zygote. Its one entry point, warren_zygote_next, is called with the shim's
 * interpreter lock held: nothing else of the runtime runs while it waits or
 * forks, so the child starts with the state the import left and nothing else.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
/* Where C1 lays out the child's scratch: over /proc, which the child must not see anyway */
#define SCRATCH "/proc"

/* The zygote's container as a request's parse needs it: its work dir (the
 * zygote's own cwd) and scratch size; limits come from the request. */
static void zygote_base(struct opts *o, const char *cwd) {
  memset(o, 0, sizeof *o);
  o->mode = MODE_HOLD;
  o->workdir = cwd;
  o->hostname = "warren";
  o->cgroups[0] = "";
  o->ncgroups = 1;
  o->zygote_host = true;
  o->uid = getuid();
  o->gid = getgid();
  struct statvfs s;
  o->scratch_mb = statvfs("/tmp", &s) == 0 ? (long)((unsigned long long)s.f_blocks * s.f_frsize >> 20) : 64;
  if (o->scratch_mb < 1) o->scratch_mb = 1;
}

/* A user namespace of the child's own, its one id mapped to itself (it
 * gets every capability in it, for the steps below, and drops them all).
 * UNSHARE: make it here; otherwise the clone that made this process made it. */
static int own_userns(bool unshare_it, uid_t uid, gid_t gid, struct failure *f) {
  char map[64];
  /* the zygote is not dumpable; a process that is not has its /proc files owned by root */
  if (prctl(PR_SET_DUMPABLE, 1) < 0 || (unshare_it && unshare(CLONE_NEWUSER) < 0)) { fail_set(f, STEP_ZYGOTE_USERNS, errno); return -1; }
  if (write_file("/proc/self/setgroups", "deny") < 0) { fail_set(f, STEP_ZYGOTE_USERNS, errno); return -1; }
  snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
  if (write_file("/proc/self/uid_map", map) < 0) { fail_set(f, STEP_ZYGOTE_USERNS, errno); return -1; }
  snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
  if (write_file("/proc/self/gid_map", map) < 0) { fail_set(f, STEP_ZYGOTE_USERNS, errno); return -1; }
  return 0;
}

/* Its filesystem: nothing it writes reaches the zygote or a later child.
 * A tmpfs of the container's scratch size (mounted over /proc, which the
 * child's own procfs then covers, so that nothing of it but what is bound
 * below can be reached) holds a fresh /tmp, a fresh /dev/shm, the upper
 * layer of an overlay on the work dir (which keeps the function's files and
 * what its import wrote) and the empty file the masks of /proc are bound
 * from (*EMPTY, an O_PATH fd); then the root is made read-only. */
static int own_mounts(const char *workdir, long scratch_mb, int *empty, struct failure *f) {
  char data[PATH_MAX + 128];
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) { fail_set(f, STEP_ZYGOTE_MOUNTS, errno); return -1; }
  snprintf(data, sizeof data, "size=%ldm,mode=0755", scratch_mb);
  if (mount("tmpfs", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) { fail_set(f, STEP_ZYGOTE_MOUNTS, errno); return -1; }
  if (mkdir(SCRATCH "/upper", 0755) < 0 || mkdir(SCRATCH "/work", 0755) < 0 || mkdir(SCRATCH "/tmp", 01777) < 0 ||
      chmod(SCRATCH "/tmp", 01777) < 0 || mkdir(SCRATCH "/shm", 01777) < 0 || chmod(SCRATCH "/shm", 01777) < 0) {
    fail_set(f, STEP_ZYGOTE_MOUNTS, errno); return -1;
  }
  if (snprintf(data, sizeof data, "lowerdir=%s,upperdir=" SCRATCH "/upper,workdir=" SCRATCH "/work", workdir) >= (int)sizeof data ||
      strchr(workdir, ',') || strchr(workdir, ':')) { fail_set(f, STEP_ZYGOTE_MOUNTS, ENAMETOOLONG); return -1; }
  if (mount("overlay", workdir, "overlay", MS_NOSUID | MS_NODEV, data) < 0) { fail_set(f, STEP_ZYGOTE_MOUNTS, errno); return -1; }
  if (mount(SCRATCH "/tmp", "/tmp", NULL, MS_BIND, NULL) < 0 || mount(SCRATCH "/shm", "/dev/shm", NULL, MS_BIND, NULL) < 0) {
    fail_set(f, STEP_ZYGOTE_MOUNTS, errno); return -1;
  }
  int mk = open(SCRATCH "/empty", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
  if (mk < 0 || close(mk) < 0 || (*empty = open(SCRATCH "/empty", O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) { fail_set(f, STEP_ZYGOTE_MOUNTS, errno); return -1; }
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int rc = root < 0 ? -1 : mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | mounts_locked_flags(root), NULL);
  int saved = errno;
  if (root >= 0) close(root);
  if (rc < 0) { fail_set(f, STEP_ZYGOTE_ROOT_RO, saved); return -1; }
  return 0;
}

/* A procfs of the child's pid namespace over /proc, its host entries masked
 * as the container's are (the kernel allows it: mounts.c, ZYGOTE_PROC_DIR) */
static int own_proc(int empty, struct failure *f) {
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) { fail_set(f, STEP_MOUNT_PROC, errno); return -1; }
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) { fail_set(f, STEP_MASK_PROC, errno); return -1; }
  int rc = mounts_mask_proc(root, empty, f);
  close(root);
  return rc;
}

/* C2, pid 1 of the child's pid namespace: its execution's cgroup (C1 stays
 * out of it, so that a kill of the whole cgroup — v2's memory.oom.group, a
 * limit — leaves C1 to report how C2 ended) and a cgroup namespace rooted
 * there, then the program's own set-up, as program.c does it before an
 * execve; then back into the runtime. */
static int child_prepare(const int *cgroup_fds, int ncg, int empty, struct failure *f) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(f, STEP_PDEATHSIG, errno); return -1; }
  struct cgroup cg;
  cgroup_from_fds(&cg, cgroup_fds, ncg);
  int rc = cgroup_enter(&cg);
  cgroup_close_fds(&cg);
  if (rc < 0) { fail_set(f, STEP_CGROUP_ENTER, errno); return -1; }
  if (unshare(CLONE_NEWCGROUP) < 0) { fail_set(f, STEP_CGROUP_NAMESPACE, errno); return -1; }
  if (own_proc(empty, f) < 0) return -1;
  if (setsid() < 0) { fail_set(f, STEP_SETSID, errno); return -1; }
  return net_loopback_up(f);
}

/* The descriptors a child may keep besides its stdio and failure pipe:
 * those the runtime's own at-fork handlers made in it (libc's fork runs
 * them; libuv's makes a new lock pipe for its signal handling, without
 * which a Node.js child aborts at its first child process or signal
 * handler). Only new files: a descriptor that is any file C1 had open
 * before the fork (a dup of one of the zygote's, made by an at-fork handler
 * of the function's own, say: a pipe the zygote holds would carry what one
 * child writes to the next) is closed as the rest are. */
#define FORK_MADE_MAX 4
struct fork_made { int n; int fd[FORK_MADE_MAX]; };
#define FDS_SEEN_MAX 512
struct fds_seen { int n; int fd[FDS_SEEN_MAX]; dev_t dev[FDS_SEEN_MAX]; ino_t ino[FDS_SEEN_MAX]; };

/* The highest descriptor open now, from /proc/self/fd (C1 reads it before
 * its scratch covers /proc); FDS_SEEN_MAX - 1 when that cannot be read */
static int fds_top(void) {
  int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return FDS_SEEN_MAX - 1;
  char buf[4096];
  int top = 2;
  long k;
  while ((k = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0)
    for (long off = 0; off < k; ) {
      struct { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + off);
      off += e->reclen;
      int fd = e->name[0] == '.' ? -1 : atoi(e->name);
      if (fd != d && fd > top) top = fd;
    }
  close(d);
  return top;
}

/* Each descriptor from 0 to TOP that is open, and the file it is */
static void fds_probe(struct fds_seen *s, int top) {
  s->n = 0;
  for (int fd = 0; fd <= top && s->n < FDS_SEEN_MAX; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0) continue;
    s->fd[s->n] = fd;
    s->dev[s->n] = st.st_dev;
    s->ino[s->n++] = st.st_ino;
  }
}

/* The descriptors up to TOP open now whose files none of BEFORE's (taken just before the fork) was */
static void fork_made(const struct fds_seen *before, int top, struct fork_made *out) {
  static struct fds_seen now;
  out->n = 0;
  fds_probe(&now, top);
  for (int i = 0; i < now.n && out->n < FORK_MADE_MAX; i++) {
    bool had = false;
    for (int j = 0; j < before->n && !had; j++)
      had = before->dev[j] == now.dev[i] && before->ino[j] == now.ino[i];
    if (!had && now.fd[i] > 2) out->fd[out->n++] = now.fd[i];
  }
}

/* What comes with the request: stdio, nothing else open but the failure
 * pipe (and KEEP's, when given), the work dir, rlimits. None of it needs a
 * capability, and the program's filter allows all of it (a child made
 * ahead has neither when its request comes). */
static int child_stdio(const struct opts *eo, int in, int out, int err, int fail, const struct fork_made *keep, struct failure *f) {
  if (dup2(in, 0) < 0) { fail_set(f, STEP_STDIN, errno); return -1; }
  if (dup2(out, 1) < 0 || dup2(err, 2) < 0) { fail_set(f, STEP_STDIO, errno); return -1; }
  int kept[1 + FORK_MADE_MAX], nkept = 0;
  kept[nkept++] = fail;
  for (int i = 0; keep && i < keep->n; i++) if (keep->fd[i] != fail && keep->fd[i] > 2) kept[nkept++] = keep->fd[i];
  if (close_fds_except(kept, nkept) < 0) { fail_set(f, STEP_CLOSE_FDS, errno); return -1; }
  int d = open_in_root(eo->chdir, O_PATH | O_DIRECTORY, false);
  if (d < 0 || fchdir(d) < 0) { fail_set(f, STEP_CHDIR, errno); if (d >= 0) close(d); return -1; }
  close(d);
  return rlimits_apply(eo, f);
}

/* ... then no capability, the program's filter */
static int child_finish(const struct opts *eo, int in, int out, int err, int fail, const struct fork_made *keep, struct failure *f) {
  if (child_stdio(eo, in, out, err, fail, keep, f) < 0 || caps_drop_all(f) < 0) return -1;
  return seccomp_install(false, f);
}

static int child_program(const struct opts *eo, const int *fds, int n, int empty, const struct fork_made *keep, struct failure *f) {
  if (child_prepare(fds + FD_CGROUPS, n - FD_CGROUPS, empty, f) < 0) return -1;
  return child_finish(eo, fds[FD_STDIN], fds[FD_STDOUT], fds[FD_STDERR], fds[FD_FAIL], keep, f);
}

/* How often, a millisecond apart, a child's clone is tried again while the namespaces' bound is reached */
#define CLONE_TRIES 200
#define CHILD_NAMESPACES (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET)

/* The child made in one clone (see warren_zygote_next): already in its own
 * user, mount, pid, IPC, UTS and network namespaces, pid 1 of the new pid
 * namespace, its parent the zygote (which reports its pid and its end).
 * Returns 0, set up, or never. */
static int child_of_clone(int *fds, int n, const char *cwd, uid_t uid, gid_t gid) {
  struct failure f = { STEP_NONE };
  struct opts base, eo;
  char *args = NULL;
  int failfd = fds[FD_FAIL];
  close(fds[FD_WAIT]); /* the zygote's to write */
  zygote_base(&base, cwd);
  if (opts_read_request(fds[FD_REQUEST], &base, &eo, &args, &f) < 0) goto fail;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(&f, STEP_PDEATHSIG, errno); goto fail; }
  if (own_userns(false, uid, gid, &f) < 0) goto fail;
  int empty = -1;
  if (own_mounts(eo.workdir, base.scratch_mb, &empty, &f) < 0) goto fail;
  if (child_program(&eo, fds, n, empty, NULL, &f) < 0) goto fail;
  free(args);
  close(failfd); /* the launcher's sign that it started (an execve would close it) */
  return 0;
fail:
  if (failfd >= 0) write_all(failfd, &f, sizeof f);
  _exit(127);
}

/* The pages a child writes first (docs/functions.md, *The zygote*): learnt
 * once by a child forked for it that runs the shim's own path on a made-up
 * event (never the handler), and written by each child made ahead while it
 * waits for its event, so that those copy-on-write copies are made before
 * the event comes rather than after. And the pages of the runtime's code and
 * read-only data that path reads: a fork copies no page-table entry of a
 * file mapping the zygote never wrote, so a child faults in each page of
 * the interpreter it runs (some 70 faults for a trivial handler); a child
 * made ahead maps them while it waits. Only addresses cross from that child,
 * and only to decide what to map early: the memory itself is the zygote's
 * either way. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define LEARNT_MAX 2048
#define LEARNT_READ_MAX 512
/* the most pages of the runs read a child maps ahead (128 MiB; some 1,200 for a trivial handler): the report is
 * made after the function's at-fork hooks ran in the learning child, and a run's length is its word */
#define LEARNT_READ_PAGES_MAX 32768
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_EXCLUSIVE (1ULL << 56)
/* What the learning child reports: the pages it wrote, and the runs of
 * pages of its read-only mappings it has mapped, as [start, pages) */
struct learnt {
  uint32_t nwritten, nread;
  uintptr_t written[LEARNT_MAX];
  uintptr_t read[LEARNT_READ_MAX][2];
};
static struct learnt learnt;
static int learn_out = -1;

static void prefault_learnt(void) {
  long page = sysconf(_SC_PAGESIZE);
  uint32_t n = learnt.nwritten;
  for (uint32_t i = 0; i < n; ) {
    uint32_t j = i + 1;
    while (j < n && learnt.written[j] == learnt.written[j - 1] + (uintptr_t)page) j++;
    madvise((void *)learnt.written[i], (size_t)(j - i) * (size_t)page, MADV_POPULATE_WRITE); /* a page no longer mapped is let be */
    i = j;
  }
  /* an older kernel (before 5.14) refuses both: the child faults them in as it goes */
  uintptr_t left = LEARNT_READ_PAGES_MAX;
  for (uint32_t i = 0; i < learnt.nread && left > 0; i++) {
    uintptr_t n = learnt.read[i][1] < left ? learnt.read[i][1] : left;
    madvise((void *)learnt.read[i][0], (size_t)n * (size_t)page, MADV_POPULATE_READ);
    left -= n;
  }
}

/* Forks the learning child, its stdin a pipe holding EVENT and its stdout
 * and stderr /dev/null. Returns 1 in it (the shim serves that event, then
 * calls warren_zygote_learn_report); 0 in the zygote once the child has
 * reported and ended (nothing learnt if it did not). */
EXPORT int warren_zygote_learn_fork(const char *event, size_t len) {
  int res[2], in[2];
  if (pipe2(res, O_CLOEXEC) < 0) return 0;
  if (pipe2(in, O_CLOEXEC) < 0) { close(res[0]); close(res[1]); return 0; }
  pid_t pid = fork();
  if (pid == 0) {
    close(res[0]);
    close(in[1]);
    learn_out = res[1];
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dup2(in[0], 0) < 0 || null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(0);
    close(in[0]);
    close(null);
    return 1;
  }
  close(res[1]);
  close(in[0]);
  if (pid > 0 && len <= 65536) write_all(in[1], event, len); /* fits in the pipe: the child reads it later */
  close(in[1]);
  memset(&learnt, 0, sizeof learnt);
  if (pid > 0) {
    ssize_t k = read_full(res[0], &learnt, sizeof learnt);
    if (k != (ssize_t)sizeof learnt || learnt.nwritten > LEARNT_MAX || learnt.nread > LEARNT_READ_MAX) memset(&learnt, 0, sizeof learnt);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  }
  close(res[0]);
  return 0;
}

/* In the learning child: the pages of its private writable mappings it has
 * written since the fork (exclusively its own now), and the runs of pages
 * of its read-only mappings (code, read-only data; not the kernel's [vdso]
 * and the like) that are mapped in it (a fork copies none of them: it
 * mapped them since), to the zygote; then it ends. */
EXPORT void warren_zygote_learn_report(void) {
  FILE *maps = fopen("/proc/self/maps", "re");
  int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  long page = sysconf(_SC_PAGESIZE);
  static struct learnt out;
  char line[512];
  while (maps && pm >= 0 && fgets(line, sizeof line, maps)) {
    unsigned long a, b;
    char perms[8];
    int at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms, &at) != 3 || perms[0] != 'r') continue;
    bool written = perms[1] == 'w' && perms[3] == 'p';
    if (!written && (perms[1] != '-' || (at > 0 && line[at] == '['))) continue;
    for (unsigned long p = a; p < b; ) {
      uint64_t e[256];
      size_t want = (b - p) / (unsigned long)page < 256 ? (b - p) / (unsigned long)page : 256;
      ssize_t got = pread(pm, e, want * sizeof e[0], (off_t)(p / (unsigned long)page * sizeof e[0]));
      if (got <= 0) break;
      for (size_t k = 0; k < (size_t)got / sizeof e[0]; k++, p += (unsigned long)page) {
        if (!(e[k] & PAGEMAP_PRESENT)) continue;
        if (written) {
          if ((e[k] & PAGEMAP_EXCLUSIVE) && out.nwritten < LEARNT_MAX) out.written[out.nwritten++] = p;
        } else if (out.nread > 0 && out.read[out.nread - 1][0] + out.read[out.nread - 1][1] * (uintptr_t)page == p) {
          out.read[out.nread - 1][1]++;
        } else if (out.nread < LEARNT_READ_MAX) {
          out.read[out.nread][0] = p;
          out.read[out.nread++][1] = 1;
        }
      }
    }
  }
  write_all(learn_out, &out, sizeof out);
  _exit(0);
}

/* A child made ahead of its request (MSG_FORK_AHEAD; FDS: the wait pipe,
 * its request socket, the next execution's cgroup files), in one clone as
 * above: it is set up as far as it can be without the request — namespaces,
 * mounts, its cgroup, its procfs, the loopback — and locked down as it will
 * run (no capability, the program's filter: what its request still needs,
 * child_stdio, needs neither), and waits on the socket for MSG_RUN, as a
 * program forked ahead by init does (program.c). A failure
 * before the request is kept and reported on the request's failure pipe;
 * the socket's end (the launcher let it go) ends it. */
static int child_ahead(int *fds, int n, const char *cwd, uid_t uid, gid_t gid) {
  struct failure f = { STEP_NONE };
  struct opts base, eo;
  char *args = NULL;
  int sock = fds[1];
  close(fds[0]); /* the wait pipe: the zygote's to write */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_set(&f, STEP_PDEATHSIG, errno);
  zygote_base(&base, cwd);
  int empty = -1;
  if (f.step == STEP_NONE && own_userns(false, uid, gid, &f) == 0 && own_mounts(base.workdir, base.scratch_mb, &empty, &f) == 0 && child_prepare(fds + 2, n - 2, empty, &f) == 0 &&
      caps_drop_all(&f) == 0)
    seccomp_install(false, &f);
  prefault_learnt();
  int run[RUN_FDS];
  enum msg type;
  int k = recv_msg(sock, &type, run, RUN_FDS);
  if (k < 0) _exit(0); /* let go */
  if (type != MSG_RUN || k != RUN_FDS) { close_fds(run, k); _exit(0); }
  close(sock);
  int failfd = run[RUN_FAIL];
  if (f.step != STEP_NONE) goto fail;
  if (opts_read_request(run[RUN_REQUEST], &base, &eo, &args, &f) < 0) goto fail;
  if (child_stdio(&eo, run[RUN_STDIN], run[RUN_STDOUT], run[RUN_STDERR], failfd, NULL, &f) < 0) goto fail;
  free(args);
  close(failfd);
  return 0;
fail:
  write_all(failfd, &f, sizeof f);
  _exit(127);
}

/* C1 (and, returning 0, C2). FDS as init gets them with MSG_FORK. */
static int child(int *fds, int n, const char *cwd) {
  struct failure f = { STEP_NONE };
  struct opts base, eo;
  char *args = NULL;
  int failfd = fds[FD_FAIL], wt = fds[FD_WAIT];
  /* how far C2's descriptors are compared with C1's (fork_made): past the highest open now, for those opened below */
  int top = fds_top() + 16;
  if (top >= FDS_SEEN_MAX) top = FDS_SEEN_MAX - 1;
  zygote_base(&base, cwd);
  if (opts_read_request(fds[FD_REQUEST], &base, &eo, &args, &f) < 0) goto fail;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(&f, STEP_PDEATHSIG, errno); goto fail; }
  if (own_userns(true, geteuid(), getegid(), &f) < 0) goto fail;
  if (unshare(CHILD_NAMESPACES) < 0) { fail_set(&f, STEP_ZYGOTE_NAMESPACES, errno); goto fail; }
  int empty = -1;
  if (own_mounts(eo.workdir, base.scratch_mb, &empty, &f) < 0) goto fail;
  static struct fds_seen before;
  fds_probe(&before, top);
  pid_t c2 = fork();
  if (c2 < 0) { fail_set(&f, STEP_ZYGOTE_PID1, errno); goto fail; }
  if (c2 == 0) {
    struct fork_made made;
    fork_made(&before, top, &made);
    if (child_program(&eo, fds, n, empty, &made, &f) < 0) { write_all(failfd, &f, sizeof f); _exit(127); }
    free(args);
    close(failfd); /* the launcher's sign that it started (an execve would close it) */
    return 0;
  }
  /* C1: its pid, then its end, as init reports a program's; nothing else stays open */
  free(args);
  struct waited w;
  memset(&w, 0, sizeof w);
  w.pid = c2;
  write_all(wt, &w, sizeof w);
  close_fds_except(&wt, 1);
  for (int fd = 0; fd <= 2; fd++) close(fd);
  while (wait_into(c2, 0, &w) < 0 && errno == EINTR) {}
  if (w.pid == c2) write_all(wt, &w, sizeof w);
  _exit(0);
fail:
  if (failfd >= 0) write_all(failfd, &f, sizeof f);
  _exit(127);
}

/* Whether this process has one thread (its /proc/self/task lists one). */
static bool single_threaded(void) {
  int d = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return false;
  char buf[1024];
  int tasks = 0;
  long k;
  while ((k = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0)
    for (long off = 0; off < k; ) {
      struct { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + off);
      if (e->name[0] != '.') tasks++;
      off += e->reclen;
    }
  close(d);
  return k == 0 && tasks == 1;
}

/* One child in one clone, with every namespace it needs (the fast way, see
 * below). The zygote is its parent: it writes the child's pid on the wait
 * pipe, waits for its end and writes that, as init does for a program.
 * Returns 0 in the child, set up; 1 in the zygote once the child has ended;
 * -1 if the clone failed (reported on the fail pipe). */
static int one_clone(int ctl, enum msg type, int *fds, int n, const char *cwd) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  bool ahead = type == MSG_FORK_AHEAD;
  long c;
  /* ENOSPC: the container's bound on namespaces (userns.c) is reached by the
   * children's that the kernel has not freed yet; it frees them shortly */
  for (int tries = 0;; tries++) {
    c = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CHILD_NAMESPACES | SIGCHLD), 0L, 0L, 0L, 0L);
    if (c >= 0 || errno != ENOSPC || tries == CLONE_TRIES) break;
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
  }
  if (c == 0) {
    close(ctl);
    return ahead ? child_ahead(fds, n, cwd, uid, gid) : child_of_clone(fds, n, cwd, uid, gid);
  }
  if (c < 0) {
    if (ahead) send_msg(ctl, MSG_AHEAD_FAILED, NULL, 0);
    else {
      struct failure f = { STEP_NONE };
      fail_set(&f, STEP_ZYGOTE_FORK, errno);
      write_all(fds[FD_FAIL], &f, sizeof f);
    }
    return -1;
  }
  /* made ahead: the launcher takes this answer before it sends the request (no pidfd: the child is reached through its cgroup) */
  if (ahead) send_msg(ctl, MSG_AHEAD_READY, NULL, 0);
  struct waited w;
  memset(&w, 0, sizeof w);
  w.pid = (pid_t)c;
  int wt = fds[ahead ? 0 : FD_WAIT];
  write_all(wt, &w, sizeof w);
  /* nothing of the child's stays open here while it runs: its stdio, its
   * cgroup, its fail pipe are the child's and the launcher's */
  for (int i = 0; i < n; i++) if (fds[i] != wt) close(fds[i]);
  while (wait_into((pid_t)c, 0, &w) < 0 && errno == EINTR) {}
  if (w.pid == (pid_t)c) write_all(wt, &w, sizeof w);
  close(wt);
  return 1;
}

#ifndef MADV_DOFORK
#define MADV_DOFORK 11
#endif
/* Before libc's fork of a zygote with threads: every mapping copied into the
 * child. V8 marks its heap's pages MADV_DONTFORK (a Node.js zygote's: a child
 * forked without them faults at its first touch of a JavaScript object);
 * undone here on each of /proc/self/maps's ranges, read in pieces into a
 * static buffer so that nothing is allocated between this and the fork
 * (V8's heap grows only on the thread that is in here now). A range the
 * kernel refuses (a special mapping) is let be. */
static void keep_all_on_fork(void) {
  static char buf[16384];
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t have = 0;
  for (;;) {
    ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    have += (size_t)k;
    buf[have] = 0;
    char *line = buf, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
      unsigned long a, b;
      *nl = 0;
      if (sscanf(line, "%lx-%lx", &a, &b) == 2 && b > a) madvise((void *)a, b - a, MADV_DOFORK);
      line = nl + 1;
    }
    have = (size_t)(buf + have - line);
    memmove(buf, line, have);
    if (have == sizeof buf - 1) have = 0; /* a line longer than the buffer: not a range's */
  }
  close(fd);
}

/* Waits for the launcher's next MSG_FORK on CTL and makes its child.
 * Returns 0 in the child, set up (the runtime then serves its event), and
 * -1 in the zygote once the launcher is gone (the zygote then exits).
 *
 * Two ways, the same child. While the zygote has one thread (nearly always:
 * only a native extension starts threads of its own), the child is made in
 * one clone with all its namespaces, and the zygote waits for it: one copy
 * of the runtime's page tables and one process per invocation. With more
 * threads, libc's fork is needed (it keeps the allocator's locks sane across
 * the fork, which a bare clone does not: with one thread no lock is held by
 * another; what else libc's fork does is for state a single-threaded Python
 * child does not use: the thread id libc caches for itself stays the
 * zygote's, read only by recursive, error-checking and priority-inheriting
 * mutexes, and pthread_atfork handlers do not run: Python's own at-fork
 * hooks do, in PyOS_AfterFork_Child), and a fork cannot enter a new pid
 * namespace itself: C1 is forked, makes the namespaces and forks C2, which
 * is pid 1 of the new one, and reports C2's end as the zygote does. The
 * zygote's own children that ended are reaped on the way. */
EXPORT int warren_zygote_next(int ctl) {
  static char cwd[PATH_MAX];
  if (!cwd[0] && !getcwd(cwd, sizeof cwd)) return -1;
  /* nothing may read or write the zygote's memory through /proc (its children's /proc shows their own pid namespace only, and ptrace is denied them: this is one more wall) */
  prctl(PR_SET_DUMPABLE, 0);
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    int fds[FD_CGROUPS + 2 * MAX_CGROUPS];
    enum msg type;
    int n = recv_msg(ctl, &type, fds, (int)(sizeof fds / sizeof fds[0]));
    if (n < 0) return -1;
    if (type == MSG_FORK_AHEAD && n >= 2 && single_threaded()) {
      int rc = one_clone(ctl, type, fds, n, cwd);
      if (rc == 0) return 0;
      if (rc < 0) close_fds(fds, n);
      continue;
    }
    if (type == MSG_FORK_AHEAD) { /* only the fast way makes one ahead: requests come with MSG_FORK then */
      close_fds(fds, n);
      send_msg(ctl, MSG_AHEAD_FAILED, NULL, 0);
      continue;
    }
    if (type != MSG_FORK || n < FD_CGROUPS) { close_fds(fds, n); continue; }
    if (single_threaded()) {
      int rc = one_clone(ctl, type, fds, n, cwd);
      if (rc == 0) return 0;
      if (rc < 0) close_fds(fds, n);
      continue;
    }
    keep_all_on_fork();
    pid_t c1 = fork();
    if (c1 == 0) {
      close(ctl);
      return child(fds, n, cwd);
    }
    if (c1 < 0) {
      struct failure f = { STEP_NONE };
      fail_set(&f, STEP_ZYGOTE_FORK, errno);
      write_all(fds[FD_FAIL], &f, sizeof f);
    }
    close_fds(fds, n);
  }
}
