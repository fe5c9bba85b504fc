/* Served execs: a held container runs programs on request, without a new
 * launcher process per program (docs/launcher.md, "Served execs").
 *
 *   caller ──requests on stdin──▶ launcher (--hold) ──fds + request──▶ init ─fork─▶ P
 *   caller ◀─frames on stdout─── launcher ◀──────── P's stdout/stderr pipes
 *
 * A request is a 9-byte header, type 'x' (exec) or 'k' (cancel), the length
 * of its arguments and the length of its stdin, then the arguments (exec
 * options, "--", the program and its arguments, each NUL-terminated) and the
 * stdin bytes. The answer is frames of a type byte and a 4-byte length: 'o'
 * stdout, 'e' stderr, then one 's' holding the status line, which ends the
 * execution. All lengths are little-endian. One execution at a time; a request
 * that arrives while one runs cancels it.
 *
 * The launcher parses the request (cgroups, wall/CPU/output limits are its
 * part) and hands init the program's pipes, cgroup files, a read-only memfd
 * as stdin and the request itself; init parses it again on top of the
 * container's own options and forks P, which is set up exactly as in the other
 * modes (exec_program). */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_REQUEST_ARGS_BYTES (4u << 20)
#define MAX_ARGS 4096

int frame_write(int fd, char type, const void *data, size_t n) {
  unsigned char h[5] = { (unsigned char)type, (unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16), (unsigned char)(n >> 24) };
  struct iovec iov[2] = { { h, sizeof h }, { (void *)data, n } };
  size_t total = sizeof h + n, done = 0;
  while (done < total) {
    ssize_t w = writev(fd, iov, 2);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    done += (size_t)w;
    for (int i = 0; i < 2; i++) { /* advance past what was written */
      size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + k; iov[i].iov_len -= k; w -= (ssize_t)k;
    }
  }
  return 0;
}

/* Splits NUL-terminated strings into a NULL-terminated argv; -1 when malformed. */
static int split_args(char *buf, size_t n, char **argv, int max) {
  int argc = 0;
  if (n && buf[n - 1]) return -1;
  for (size_t i = 0; i < n; ) {
    if (argc == max - 1) return -1;
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;
  return argc;
}

static void answer_failure(const struct failure *f, const char *message) {
  char line[1024];
  frame_write(1, 's', line, (size_t)status_failure_str(line, sizeof line, f, message));
}

/* The status line of an execution that ran; TIMINGS (4) or NULL. -1 when the caller's channel is broken. */
static int answer_result(const struct exec_result *r, const int64_t *timings) {
  char line[1024];
  return frame_write(1, 's', line, (size_t)status_result_str(line, sizeof line, r, timings, 4));
}

/* Reads N bytes of stdin from the caller into a memfd and returns a read-only fd of it at offset 0. */
static int stdin_memfd(uint32_t n, struct failure *f) {
  int m = (int)syscall(SYS_memfd_create, "stdin", MFD_CLOEXEC);
  if (m < 0) { fail_set(f, "stdin-memfd", errno); return -1; }
  char buf[65536];
  while (n > 0) {
    ssize_t k = read(0, buf, n < sizeof buf ? n : sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) { fail_set(f, "request-read", k < 0 ? errno : EPIPE); close(m); return -1; }
    if (write_all(m, buf, (size_t)k) < 0) { fail_set(f, "stdin-memfd", errno); close(m); return -1; }
    n -= (uint32_t)k;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", m);
  int ro = open(path, O_RDONLY | O_CLOEXEC);
  if (ro < 0) fail_set(f, "stdin-memfd", errno);
  close(m);
  return ro;
}

/* The container's own cgroup (hold --cgroup): every execution's cgroup is
 * made below it, and its memory and pids limits are set for each execution,
 * so that what executions leave behind (charged to their removed cgroups)
 * cannot add up past one execution's limits plus the scratch layer. */
static struct cgroup job;
static unsigned exec_seq;

/* Cgroups made ahead, below JOB: the next execution only writes its limits
 * into them. Made again after each answer, off the critical path. */
static struct cgroup ahead;

static int make_ahead(struct failure *f) {
  char name[32];
  snprintf(name, sizeof name, "e%u", ++exec_seq);
  if (cgroup_make_in(&ahead, &job, name, f) == 0) return 0;
  cgroup_destroy(&ahead);
  return -1;
}

/* A program forked ahead into the ahead cgroups, waiting for its request
 * (forked_ahead): a request that runs in those cgroups skips init's fork and
 * the program's cgroup, session and identity set-up. Made again after each
 * answer, with the cgroups. */
static struct { bool active; int sock, wait, pidfd; } fa;

static void drop_ahead_program(void) {
  if (!fa.active) return;
  close(fa.sock);
  close(fa.wait);
  if (fa.pidfd >= 0) close(fa.pidfd);
  fa.active = false;
}

static void fork_ahead(struct container *c) {
  if (!ahead.n || fa.active) return;
  int wt[2];
  if (pipe2(wt, O_CLOEXEC) < 0) return;
  int fds[1 + 2 * MAX_CGROUPS] = { wt[1] };
  int n = 1 + cgroup_handoff_fds(&ahead, fds + 1);
  int rc = send_msg(c->ctl, 'P', fds, n);
  close(wt[1]);
  char type = 0;
  int got[2] = { -1, -1 };
  int k = rc < 0 ? -1 : recv_msg(c->ctl, &type, got, 2);
  if (k < 1 || type != 'S') { /* init could not: requests fork their program as usual */
    for (int i = 0; i < k; i++) close(got[i]);
    close(wt[0]);
    return;
  }
  fa.active = true;
  fa.sock = got[0];
  fa.wait = wt[0];
  fa.pidfd = k > 1 ? got[1] : -1;
}

/* --unpack (alone), or --unpack-first before the request's program runs: the
 * job's files (stream FILES) written into the work dir by init ('U',
 * container.c). 0, or -1 with F set. */
static int init_unpack(struct container *c, int files, struct failure *f) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) { fail_set(f, "pipe", errno); return -1; }
  int fds[2] = { files, p[1] };
  int rc = send_msg(c->ctl, 'U', fds, 2);
  close(p[1]);
  if (rc < 0) { fail_set(f, "container-exec", errno); close(p[0]); return -1; }
  struct failure got;
  int n = read_full(p[0], &got, sizeof got);
  close(p[0]);
  if (n != (int)sizeof got) { fail_set(f, "unpack", n < 0 ? errno : EPIPE); return -1; } /* init is gone */
  if (got.step[0]) { *f = got; return -1; }
  return 0;
}

/* One exec request, header already read at T_REQUEST. Returns -1 when the caller's channel is broken. */
static int serve_one(const struct opts *container, struct container *c, const unsigned char *h, int64_t t_request, bool *stop) {
  uint32_t arglen = le32(h + 1), inlen = le32(h + 5);
  struct failure f = { "", 0 };
  if (arglen > MAX_REQUEST_ARGS_BYTES) { fail_set(&f, "request-too-large", E2BIG); answer_failure(&f, NULL); return -1; }
  char *args = malloc(arglen + 1);
  if (!args) return -1;
  if (read_full(0, args, arglen) != (int)arglen) { free(args); return -1; }
  static char *argv[MAX_ARGS];
  int argc = split_args(args, arglen, argv, MAX_ARGS);
  struct opts eo;
  char err[512];
  int rc = 0;
  bool parsed = argc >= 0 && opts_parse_exec(&eo, container, argc, argv, err, sizeof err) == 0;
  /* --unpack-first N: the stdin's first N bytes are the job's files, the rest the program's stdin */
  uint32_t files_len = parsed && eo.unpack_first <= (long)inlen ? (uint32_t)eo.unpack_first : 0;
  int files = files_len ? stdin_memfd(files_len, &f) : -1;
  int in = files_len && files < 0 ? -1 : stdin_memfd(inlen - files_len, &f);
  if (in < 0) { if (files >= 0) close(files); free(args); answer_failure(&f, NULL); return -1; }
  if (argc < 0) { fail_set(&f, "options", EINVAL); answer_failure(&f, "the request's arguments are not NUL-terminated strings, or too many"); goto out; }
  if (!parsed) { fail_set(&f, "options", EINVAL); answer_failure(&f, err); goto out; }
  if (eo.unpack_first > (long)inlen) { fail_set(&f, "options", EINVAL); answer_failure(&f, "--unpack-first is longer than the request's stdin"); goto out; }
  if (files >= 0 && init_unpack(c, files, &f) < 0) { answer_failure(&f, NULL); goto out; }
  if (eo.unpack) { /* --unpack alone: init writes the files; the answer is that of a program that exited 0 */
    int64_t t0 = now_us();
    if (init_unpack(c, in, &f) < 0) { answer_failure(&f, NULL); goto out; }
    struct exec_result r;
    memset(&r, 0, sizeof r);
    r.status = "ok";
    r.exited = true;
    r.wall_ms = (double)(now_us() - t0) / 1000.0;
    if (answer_result(&r, NULL) < 0) rc = -1;
    goto out;
  }
  /* init gets the request as a memfd: it parses the same arguments itself */
  int req = (int)syscall(SYS_memfd_create, "request", MFD_CLOEXEC);
  if (req < 0 || write_all(req, args, arglen) < 0) { fail_set(&f, "request-memfd", errno); if (req >= 0) close(req); answer_failure(&f, NULL); goto out; }
  static struct cgroup used;
  struct cgroup *made = NULL;
  if (job.n) {
    /* the job's bound first: a lower one than the last execution's is reached by reclaim */
    if ((!ahead.n && make_ahead(&f) < 0) || cgroup_limit_job(&job, &eo, &f) < 0 || cgroup_limit(&ahead, &eo, &f) < 0) {
      cgroup_destroy(&ahead); drop_ahead_program(); answer_failure(&f, NULL); close(req); goto out;
    }
    made = &ahead;
  }
  /* the program forked ahead lives in the ahead cgroups: only for a program run in them */
  bool use_ahead = made && fa.active;
  struct served sv = { in, req, 1, 0, use_ahead ? fa.sock : -1, use_ahead ? fa.wait : -1, use_ahead ? fa.pidfd : -1, false, &used };
  struct exec_result r;
  int64_t t[4] = { 0, 0, 0, 0 };
  used.n = 0;
  int erc = exec_run(&eo, c, made, &sv, &r, &f, t);
  if (made) {
    ahead.n = 0; /* exec_run owns it now: removed there, or handed back in USED */
    drop_ahead_program(); /* used, or killed with its cgroups */
  }
  if (erc < 0) answer_failure(&f, NULL);
  else {
    t[3] = t[3] ? t[3] - t_request : -1;
    t[2] = now_us() - t_request;
    if (answer_result(&r, eo.timings ? t : NULL) < 0) rc = -1;
  }
  close(req);
  if (used.n) cgroup_destroy(&used);
  /* the next execution's cgroups, while the caller reads this answer */
  if (job.n && !ahead.n) make_ahead(&f);
  fork_ahead(c);
  if (sv.cancelled_by_signal) *stop = true; /* SIGTERM/SIGINT/SIGHUP end the container too */
out:
  if (files >= 0) close(files);
  close(in);
  free(args);
  return rc;
}

/* --hold: serve exec requests until stdin closes or a terminating signal. */
int serve(const struct opts *o, struct container *c) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT); sigaddset(&set, SIGHUP); sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  struct failure f = { "", 0 };
  if (o->ncgroups && cgroup_make_job(&job, o->cgroups, o->ncgroups, &f) < 0) {
    /* never serve an execution outside the job's bound */
    cgroup_destroy(&job);
    container_destroy(c);
    status_failure(o->status_fd, &f, NULL);
    return 125;
  }
  if (job.n) make_ahead(&f); /* else made per request */
  fork_ahead(c);
  status_ready(o->status_fd, c->init);
  if (o->status_fd >= 0 && o->status_fd > 2) close(o->status_fd);
  bool stop = false;
  while (!stop) {
    struct pollfd p[2] = { { 0, POLLIN, 0 }, { sfd, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (p[1].revents) break; /* a terminating signal, or the container died */
    if (!p[0].revents) continue;
    unsigned char h[9];
    if (read_full(0, h, sizeof h) != (int)sizeof h) break; /* EOF: the caller is done */
    int64_t t_request = now_us();
    if (h[0] == 'k') continue; /* a cancel that came after its execution ended */
    if (h[0] != 'x' || serve_one(o, c, h, t_request, &stop) < 0) break;
  }
  drop_ahead_program();
  container_destroy(c);
  if (ahead.n) cgroup_destroy(&ahead);
  if (job.n) cgroup_destroy(&job);
  return 0;
}

/* The request memfd FD, parsed on top of CONTAINER's options into EO; *ARGS holds the strings (free it). */
static int read_request(int fd, const struct opts *container, struct opts *eo, char **args, struct failure *ff) {
  static char *argv[MAX_ARGS];
  char err[512];
  struct stat st;
  *args = NULL;
  if (fstat(fd, &st) < 0 || st.st_size > (off_t)MAX_REQUEST_ARGS_BYTES) { fail_set(ff, "served-request", errno ? errno : E2BIG); return -1; }
  *args = malloc((size_t)st.st_size + 1);
  if (!*args || pread(fd, *args, (size_t)st.st_size, 0) != st.st_size) { fail_set(ff, "served-request", errno ? errno : EIO); return -1; }
  int argc = split_args(*args, (size_t)st.st_size, argv, MAX_ARGS);
  if (argc < 0 || opts_parse_exec(eo, container, argc, argv, err, sizeof err) < 0) { fail_set(ff, "served-request", EINVAL); return -1; }
  return 0;
}

void forked_ahead(const struct opts *container, struct cgroup *cg, int sock, bool priv) {
  struct failure f = { "", 0 };
  /* a failure here ends this process: the launcher then finds SOCK closed
   * and has init fork the program as usual */
  if (exec_enter(container, cg, priv, &f) < 0) _exit(127);
  int fds[8];
  char type = 0;
  int n = recv_msg(sock, &type, fds, 8);
  if (n < 5 || type != 'x') _exit(0); /* the container is ending */
  close(sock);
  /* the program's stdout, stderr, failure pipe, stdin, request */
  struct opts eo;
  char *args;
  if (read_request(fds[4], container, &eo, &args, &f) < 0 || eo.unpack) {
    if (!f.step[0]) fail_set(&f, "served-request", EINVAL);
    write_all(fds[2], &f, sizeof f);
    _exit(127);
  }
  if (dup2(fds[3], 0) < 0 || dup2(fds[0], 1) < 0 || dup2(fds[1], 2) < 0) { fail_set(&f, "stdio", errno); write_all(fds[2], &f, sizeof f); _exit(127); }
  exec_finish(&eo, fds[2], -1, priv);
}

/* In the container's init: FDS are the wait pipe, then the ahead cgroups'
 * files. Forks the program ahead (forked_ahead) and sends the launcher its
 * request socket and pidfd ('S'; with no fds when it could not). */
int ahead_fork(const struct opts *container, int ctl, const int *fds, int nfds, bool priv, pid_t *pid) {
  int wt = fds[0], sp[2] = { -1, -1 };
  static struct cgroup cg;
  cgroup_from_fds(&cg, fds + 1, nfds - 1);
  pid_t p = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ? -1 : cgroup_fork(&cg);
  if (p == 0) { close(ctl); close(wt); close(sp[0]); forked_ahead(container, &cg, sp[1], priv); }
  for (int i = 1; i < nfds; i++) close(fds[i]);
  if (sp[1] >= 0) close(sp[1]);
  if (p < 0) {
    if (sp[0] >= 0) close(sp[0]);
    close(wt);
    send_msg(ctl, 'S', NULL, 0);
    return -1;
  }
  report_forked(ctl, 'S', sp[0], wt, p); /* its pid is read when its request comes, as for any other program */
  close(sp[0]);
  *pid = p;
  return wt;
}

/* In the container's init: FDS are the program's stdout, stderr, failure and
 * wait pipes, its stdin, the request, then its cgroups' files. */
int served_fork(const struct opts *container, int ctl, const int *fds, int nfds, bool priv, pid_t *pid) {
  int failfd = nfds > 2 ? fds[2] : -1, wt = nfds > 3 ? fds[3] : -1;
  struct failure ff = { "", 0 };
  char *args = NULL;
  struct opts eo;
  if (nfds < 6) { fail_set(&ff, "served-request", EINVAL); goto fail; }
  if (read_request(fds[5], container, &eo, &args, &ff) < 0) goto fail;
  if (eo.unpack) { fail_set(&ff, "served-request", EINVAL); goto fail; } /* init's own work ('U'), never a program's */
  static struct cgroup cg;
  cgroup_from_fds(&cg, fds + 6, nfds - 6);
  pid_t p = cgroup_fork(&cg);
  if (p == 0) {
    close(ctl);
    close(wt);
    if (dup2(fds[4], 0) < 0) { fail_set(&ff, "stdin", errno); write_all(failfd, &ff, sizeof ff); _exit(127); }
    exec_program(&eo, &cg, fds[0], fds[1], failfd, -1, priv);
  }
  if (p < 0) { fail_set(&ff, "fork", errno); goto fail; }
  report_forked(ctl, 0, -1, wt, p);
  for (int i = 0; i < nfds; i++) if (i != 3) close(fds[i]);
  free(args);
  *pid = p;
  return wt;
fail:
  if (failfd >= 0) write_all(failfd, &ff, sizeof ff);
  for (int i = 0; i < nfds; i++) close(fds[i]); /* the launcher sees the failure, then EOF */
  free(args);
  return -1;
}
