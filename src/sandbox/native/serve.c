/* Served execs: a held container runs programs on request, without a new
 * launcher process per program (docs/launcher.md, "Served execs").
 *
 *   caller ──requests on stdin──▶ launcher (--hold) ──fds + request──▶ init ─fork─▶ program
 *   caller ◀─frames on stdout─── launcher ◀──────── the program's stdout/stderr pipes
 *
 * A request is a 9-byte header, type MSG_EXEC or MSG_CANCEL, the length of
 * its arguments and the length of its stdin, then the arguments (exec
 * options, "--", the program and its arguments, each NUL-terminated) and the
 * stdin bytes. The answer is frames of a type byte and a 4-byte length:
 * MSG_STDOUT, MSG_STDERR, then one MSG_STATUS holding the status line, which
 * ends the execution. All lengths are little-endian. One execution at a time;
 * a request that arrives while one runs cancels it.
 *
 * With --stdin-stream, the program's stdin is a pipe, and the caller's frames
 * while it runs (the same 9-byte header; the payload is the sum of its two
 * lengths) are MSG_STDIN, its bytes, MSG_STDIN_END, MSG_SIGNAL and
 * MSG_CANCEL; request.c reads them. Its signals may also come out of band,
 * relayed by real-time signals (launcher.h, RELAY_BASE): the MSG_EXEC
 * requests are counted here, and a relayed signal names its execution by the
 * count's parity. Frames that come after the execution ended (the caller wrote
 * them before it read the status) are skipped here, payload and all.
 *
 * The launcher's stdout is non-blocking: a caller that reads slowly holds up
 * one frame of output (request.c), never the enforcement of the limits.
 *
 * This file reads the protocol; request.c runs each request, as it runs a
 * one-shot's (main.c).
 */
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
#include <sys/syscall.h>
#include <unistd.h>

static void answer_failure(const struct failure *f, const char *message) {
  char line[1024];
  frame_write(1, MSG_STATUS, line, (size_t)status_failure_str(line, sizeof line, f, message));
}

/* The status line of an execution that ran; TIMINGS (4) or NULL. -1 when the caller's channel is broken. */
static int answer_result(const struct exec_result *r, const int64_t *timings) {
  char line[1024];
  return frame_write(1, MSG_STATUS, line, (size_t)status_result_str(line, sizeof line, r, timings, 4));
}

/* Reads N bytes of stdin from the caller into a memfd and returns a read-only fd of it at offset 0. */
static int stdin_memfd(uint32_t n, struct failure *f) {
  int m = (int)syscall(SYS_memfd_create, "stdin", MFD_CLOEXEC);
  if (m < 0) { fail_set(f, STEP_STDIN_MEMFD, errno); return -1; }
  char buf[65536];
  while (n > 0) {
    ssize_t k = read(0, buf, n < sizeof buf ? n : sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) { fail_set(f, STEP_REQUEST_READ, k < 0 ? errno : EPIPE); close(m); return -1; }
    if (write_all(m, buf, (size_t)k) < 0) { fail_set(f, STEP_STDIN_MEMFD, errno); close(m); return -1; }
    n -= (uint32_t)k;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", m);
  int ro = open(path, O_RDONLY | O_CLOEXEC);
  if (ro < 0) fail_set(f, STEP_STDIN_MEMFD, errno);
  close(m);
  return ro;
}

/* --unpack alone: init writes the files; the answer is that of a program that exited 0 */
static int serve_unpack(struct container *c, int files) {
  struct failure f = { STEP_NONE };
  int64_t t0 = now_us();
  if (request_unpack(c, files, &f) < 0) { answer_failure(&f, NULL); return 0; }
  struct exec_result r;
  memset(&r, 0, sizeof r);
  r.status = "ok";
  r.exited = true;
  r.wall_ms = (double)(now_us() - t0) / 1000.0;
  return answer_result(&r, NULL);
}

/* A SIGUSR1 that came before this execution was meant for an earlier one:
 * the caller sends the next request only after the answer to the one it
 * cancelled, so any SIGUSR1 it sent is pending by now. So is any signal it
 * relayed for the execution before (the other PARITY); one of this
 * execution's parity was sent after its request, for it, and is kept. */
static void drop_stale(int parity) {
  sigset_t stale, relays;
  sigemptyset(&stale);
  sigaddset(&stale, SIGUSR1);
  sigemptyset(&relays);
  relay_sigaddset(&relays);
  for (int n = 1; n <= RELAY_SIGNALS; n++) {
    int s = RELAY_BASE + (1 - parity) * RELAY_SIGNALS + n;
    if (sigismember(&relays, s) == 1) sigaddset(&stale, s);
  }
  struct timespec none = { 0, 0 };
  while (sigtimedwait(&stale, NULL, &none) > 0) {}
}

/* --stdin-stream: the program's stdin, a pipe; the launcher's end (non-blocking) in *STREAM */
static int stdin_pipe(int *stream, struct failure *f) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) { fail_set(f, STEP_PIPE, errno); return -1; }
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  *stream = p[1];
  return p[0];
}

/* A zygote that said it is ready stays, with its control socket, its wait
 * pipe and its execution's cgroup, until the container ends. The program
 * forked ahead into that cgroup (if one was) is let go: on its socket's
 * EOF it exits; from now on the program ahead is the zygote's child, made
 * ahead by the zygote (request_ask_ahead), as the container's executions
 * are its zygote's children. */
static void keep_zygote(struct container *c, struct request *q) {
  c->zygote.sock = q->zygote_sock;
  q->zygote_sock = -1;
  c->zygote.wait = q->wt[0];
  q->wt[0] = -1;
  c->zygote.cg = q->cg;
  q->cg.n = 0;
  c->zygote.memory_mb = q->eo.memory_mb > 0 ? q->eo.memory_mb : 0;
  c->zygote.pids = q->eo.pids > 0 ? q->eo.pids : 0;
  container_drop_ahead(c);
}

static void free_args(char *args, const char *small) {
  if (args != small) free(args);
}

/* One MSG_EXEC request, header H already read at T_REQUEST. Returns -1 when the caller's channel is broken. */
static int serve_one(const struct opts *container, struct container *c, struct caller *from, const unsigned char *h, int64_t t_request, int parity, bool *stop) {
  uint32_t arglen = le32(h + 1), inlen = le32(h + 5);
  struct failure f = { STEP_NONE };
  drop_stale(parity);
  if (arglen > MAX_REQUEST_ARGS_BYTES) { fail_set(&f, STEP_REQUEST_TOO_LARGE, E2BIG); answer_failure(&f, NULL); return -1; }
  /* the strings, then their argv (which points into them) */
  size_t at = (arglen + 1 + 7) & ~(size_t)7;
  /* one request at a time: a usual one's in a static buffer, not memory
   * mapped (musl maps an allocation this large) and faulted in afresh each time */
  static char small[64 << 10] __attribute__((aligned(8)));
  size_t need = at + sizeof(char *) * MAX_REQUEST_ARGS;
  char *args = need <= sizeof small ? small : malloc(need);
  if (!args) return -1;
  if (read_full(0, args, arglen) != (int)arglen) { free_args(args, small); return -1; }
  char **argv = (char **)(void *)(args + at);
  int argc = opts_split(args, arglen, argv, MAX_REQUEST_ARGS);
  struct request q;
  request_init(&q);
  char err[512];
  int rc = 0;
  bool parsed = argc >= 0 && opts_parse_exec(&q.eo, container, argc, argv, err, sizeof err) == 0;
  /* --unpack-first N: the stdin's first N bytes are the job's files, the rest the program's stdin */
  uint32_t files_len = parsed && q.eo.unpack_first <= (long)inlen ? (uint32_t)q.eo.unpack_first : 0;
  int files = files_len ? stdin_memfd(files_len, &f) : -1;
  int in = files_len && files < 0 ? -1 : stdin_memfd(inlen - files_len, &f);
  if (in < 0) { if (files >= 0) close(files); free_args(args, small); answer_failure(&f, NULL); return -1; }
  if (argc < 0) { fail_set(&f, STEP_OPTIONS, EINVAL); answer_failure(&f, "the request's arguments are not NUL-terminated strings, or too many"); goto out; }
  if (!parsed) { fail_set(&f, STEP_OPTIONS, EINVAL); answer_failure(&f, err); goto out; }
  if (q.eo.unpack_first > (long)inlen) { fail_set(&f, STEP_OPTIONS, EINVAL); answer_failure(&f, "--unpack-first is longer than the request's stdin"); goto out; }
  if (q.eo.stdin_stream && inlen != files_len) { fail_set(&f, STEP_OPTIONS, EINVAL); answer_failure(&f, "--stdin-stream: the program's stdin comes in stdin frames, not in the request"); goto out; }
  if (files >= 0 && request_unpack(c, files, &f) < 0) { answer_failure(&f, NULL); goto out; }
  if (q.eo.unpack) { rc = serve_unpack(c, in); goto out; }
  if (q.eo.stdin_stream) {
    close(in);
    if ((in = stdin_pipe(&q.stream, &f)) < 0) { answer_failure(&f, NULL); goto out; }
  }
  /* --zygote: its stdin is its control socket (zygote.c) */
  if (q.eo.zygote) {
    if (c->zygote.sock >= 0) { fail_set(&f, STEP_ZYGOTE_RUNNING, EBUSY); answer_failure(&f, NULL); goto out; }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { fail_set(&f, STEP_ZYGOTE_SOCKET, errno); answer_failure(&f, NULL); goto out; }
    close(in);
    in = sp[1];
    q.zygote_sock = sp[0];
  }

  q.args = args;
  q.arglen = arglen;
  q.in = in;
  q.cancel = 0; /* anything from the caller meanwhile cancels it (streamed: its frames are read) */
  q.from = from;
  q.parity = parity;
  struct exec_result r;
  request_signals(&q);
  bool ran = request_prepare(c, &q, &f) == 0 && request_start(c, &q, &f) == 0;
  if (ran && (q.eo.stdin_stream || q.eo.zygote)) { close(in); in = q.in = -1; } /* the program's end is its own: its exit is EPIPE here */
  if (!ran || request_finish(c, &q, &(struct sink){ 1 }, false, &r, &f) < 0)
    answer_failure(&f, NULL);
  else {
    /* --timings: startUs (request to execve), execUs, answerUs (request to status) */
    int64_t t[4] = { 0, q.exec_us, now_us() - t_request, q.started ? q.started - t_request : -1 };
    if (answer_result(&r, q.eo.timings ? t : NULL) < 0) rc = -1;
  }
  if (q.zygote_ready) keep_zygote(c, &q);
  request_end(c, &q);
  /* the next execution's cgroup and program, while the caller reads this answer */
  request_prepare_next(c);
  if (q.cancelled_by_signal) *stop = true; /* SIGTERM/SIGINT/SIGHUP end the container too */
out:
  if (files >= 0) close(files);
  if (in >= 0) close(in);
  if (q.stream >= 0) close(q.stream);
  if (q.zygote_sock >= 0) close(q.zygote_sock);
  free_args(args, small);
  return rc;
}

/* Skips LEFT bytes of the caller's stdin; -1 at EOF */
static int skip(uint64_t *left) {
  char buf[65536];
  while (*left) {
    ssize_t k = read(0, buf, *left < sizeof buf ? (size_t)*left : sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    *left -= (uint64_t)k;
  }
  return 0;
}

int serve(const struct opts *o, struct container *c) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT); sigaddset(&set, SIGHUP); sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  /* a caller that reads slowly must not stop the limits' enforcement (request.c) */
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  request_prepare_next(c); /* main asked for the first program ahead while init built the container; again if it was not forked */
  status_ready(o->status_fd, c->init, c->degraded);
  if (o->status_fd > 2) close(o->status_fd);
  bool stop = false;
  unsigned long execs = 0;
  struct caller from = { .hgot = 0 };
  while (!stop) {
    /* the rest of a streamed execution's last frame (it ended first) */
    if (from.hgot == (int)sizeof from.h && skip(&from.left) < 0) break;
    if (from.hgot == (int)sizeof from.h) from.hgot = 0;
    struct pollfd p[2] = { { 0, POLLIN, 0 }, { sfd, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (p[1].revents) break; /* a terminating signal, or the container died */
    if (!p[0].revents) continue;
    unsigned char *h = from.h;
    int got = from.hgot;
    from.hgot = 0;
    if (read_full(0, h + got, sizeof from.h - (size_t)got) != (int)sizeof from.h - got) break; /* EOF: the caller is done */
    int64_t t_request = now_us();
    if (h[0] == MSG_CANCEL || h[0] == MSG_STDIN || h[0] == MSG_STDIN_END || h[0] == MSG_SIGNAL) { /* after its execution ended: skipped */
      from.left = (uint64_t)le32(h + 1) + le32(h + 5);
      if (skip(&from.left) < 0) break;
      continue;
    }
    /* the requests are counted: a relayed signal names its execution by the parity of this count */
    if (h[0] != MSG_EXEC || serve_one(o, c, &from, h, t_request, (int)(execs++ & 1), &stop) < 0) break;
  }
  container_destroy(c);
  return 0;
}
