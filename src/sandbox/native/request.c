/* One request, the launcher's side: the same for a served request and for
 * the one request of a one-shot run.
 *
 *   request_prepare       its arguments in a memfd, its limits written into
 *                         its execution's cgroup (made ahead, below the
 *                         container's own); a one-shot's while init builds
 *   request_start         its pipes, and the hand-over: to the program forked
 *                         ahead when there is one, else to init (MSG_FORK)
 *   request_finish        the program's output drained to the caller up to
 *                         the output cap, its wall-clock, CPU and output
 *                         limits enforced from here, a cancel obeyed, its
 *                         accounting read and its status decided
 *   request_end           its cgroup removed (after the answer)
 *   request_prepare_next  the next execution's cgroup, and a program forked
 *                         ahead into it, while the caller reads the answer
 *
 * The launcher never runs inside the container, so nothing in the container
 * can see or signal it. Set-up failures of init or the program come back as
 * {step, errno} on the failure pipe: a program that did not start never gets
 * an exit code.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* HEADER of a frame of TYPE and length N */
static void frame_header(unsigned char h[5], enum msg type, size_t n) {
  h[0] = (unsigned char)type; h[1] = (unsigned char)n; h[2] = (unsigned char)(n >> 8); h[3] = (unsigned char)(n >> 16); h[4] = (unsigned char)(n >> 24);
}

/* Writes what it can of IOV[0..2) to FD; the bytes written, or -1 (EAGAIN: none) */
static ssize_t write_somev(int fd, struct iovec *iov, int n) {
  ssize_t w;
  while ((w = writev(fd, iov, n)) < 0 && errno == EINTR) {}
  if (w < 0) return -1;
  ssize_t left = w;
  for (int i = 0; i < n; i++) { /* advance past what was written */
    size_t k = (size_t)left < iov[i].iov_len ? (size_t)left : iov[i].iov_len;
    iov[i].iov_base = (char *)iov[i].iov_base + k; iov[i].iov_len -= k; left -= (ssize_t)k;
  }
  return w;
}

static ssize_t write_some(int fd, struct iovec *iov) { return write_somev(fd, iov, 2); }

int frame_write(int fd, enum msg type, const void *data, size_t n) {
  unsigned char h[5];
  frame_header(h, type, n);
  struct iovec iov[2] = { { h, sizeof h }, { (void *)data, n } };
  size_t total = sizeof h + n, done = 0;
  while (done < total) {
    ssize_t w = write_some(fd, iov);
    if (w < 0 && errno == EAGAIN) { struct pollfd p = { fd, POLLOUT, 0 }; poll(&p, 1, -1); continue; }
    if (w < 0) return -1;
    done += (size_t)w;
  }
  return 0;
}

static void close_pipe(int p[2]) {
  for (int i = 0; i < 2; i++) if (p[i] >= 0) { close(p[i]); p[i] = -1; }
}

/* Its arguments in a memfd: init, or the program forked ahead, parses them
 * again itself, on top of the container's options (opts_read_request) */
static int request_memfd(struct request *q, struct failure *f) {
  q->req = (int)syscall(SYS_memfd_create, "request", MFD_CLOEXEC);
  if (q->req < 0 || write_all(q->req, q->args, q->arglen) < 0) { fail_set(f, STEP_REQUEST_MEMFD, errno); return -1; }
  return 0;
}

/* The execution's cgroup: the container's next one, made ahead, with the
 * request's limits written. The container's own bound first: a lower one
 * than the last execution's is reached by reclaim. The cgroup is the
 * request's from here on (removed by request_end); a program forked ahead
 * into it is used by this request or killed with it. */
static int request_cgroup(struct container *c, struct request *q, struct failure *f) {
  if (!c->own.n) return 0;
  if (c->flat) {
    /* the container's first execution, in its own cgroup: the container's
     * bound is this execution's limits (container_cgroups) */
    if (cgroup_limit(&c->own, &q->eo, f) < 0) {
      request_take_ahead(c);
      container_drop_ahead(c);
      cgroup_kill_all(&c->own); /* the program ahead */
      return -1;
    }
    q->cg = c->own;
    q->in_own = true;
    return 0;
  }
  if (container_next_cgroup(c, f) < 0 || cgroup_limit_own(&c->own, &q->eo, c->zygote.sock >= 0 ? c->zygote.memory_mb : 0, c->zygote.sock >= 0 ? c->zygote.pids : 0, f) < 0 || cgroup_limit(&c->next, &q->eo, f) < 0) {
    request_take_ahead(c); /* init's answer, if one is due, is not left on the socket */
    container_drop_ahead(c);
    cgroup_destroy(&c->next);
    return -1;
  }
  q->cg = c->next;
  c->next.n = 0;
  c->last_limits.set = true;
  c->last_limits.memory_mb = q->eo.memory_mb;
  c->last_limits.pids = q->eo.pids;
  c->last_limits.cpus = q->eo.cpus;
  return 0;
}

static int request_pipes(struct request *q, struct failure *f) {
  if (pipe2(q->out, O_CLOEXEC) || pipe2(q->err, O_CLOEXEC) || pipe2(q->fail, O_CLOEXEC) || pipe2(q->wt, O_CLOEXEC)) {
    fail_set(f, STEP_PIPE, errno);
    return -1;
  }
  /* our ends, set before the hand-over: after it, the program is waiting for this CPU */
  fcntl(q->out[0], F_SETFL, O_NONBLOCK);
  fcntl(q->err[0], F_SETFL, O_NONBLOCK);
  fcntl(q->fail[0], F_SETFL, O_NONBLOCK);
  return 0;
}

/* Whether the container's zygote is there and has not ended (its wait pipe
 * holds nothing more than its pid, which was read when it became ready); a
 * zygote found ended is let go. */
static bool zygote_alive(struct container *c) {
  if (c->zygote.sock < 0) return false;
  struct pollfd p = { c->zygote.wait, POLLIN, 0 };
  if (c->zygote.wait >= 0 && poll(&p, 1, 0) == 0) return true;
  close(c->zygote.sock); c->zygote.sock = -1;
  if (c->zygote.wait >= 0) { close(c->zygote.wait); c->zygote.wait = -1; }
  return false;
}

/* To the program forked ahead into this cgroup, if it is there or asked for
 * (MSG_RUN on its socket, where it waits, or will; its pid comes on its own
 * wait pipe); else to init (MSG_FORK). --via-zygote: to the container's
 * zygote, with the same message init gets (its child reports its pid and
 * its end on the wait pipe as init does; zygote.c). --zygote: to init, never
 * to the program ahead, which has the program's filter. */
static int request_hand_over(struct container *c, struct request *q, struct failure *f) {
  /* A zygote is alone in its cgroup (below), and a program forked ahead runs
   * only the kind of request it was made for (init's: a program; the
   * zygote's: its child): one that does not fit goes, now, before anything
   * else enters the cgroup. Init's is killed by its pidfd, the zygote's
   * child through the cgroup (it has nothing else in it). */
  bool fits = q->eo.via_zygote == c->ahead.zygote && !q->eo.zygote;
  if (!fits && (c->ahead.active || c->ahead.asked)) {
    if (c->ahead.asked) request_take_ahead(c);
    if (c->ahead.pidfd >= 0) syscall(SYS_pidfd_send_signal, c->ahead.pidfd, SIGKILL, NULL, 0);
    else if (c->ahead.active && q->cg.n) cgroup_kill_all(&q->cg);
    container_drop_ahead(c);
  }
  if (q->cg.n && fits && (c->ahead.active || c->ahead.asked)) {
    int fds[RUN_FDS] = { [RUN_STDOUT] = q->out[1], [RUN_STDERR] = q->err[1], [RUN_FAIL] = q->fail[1], [RUN_STDIN] = q->in, [RUN_REQUEST] = q->req };
    if (c->ahead.asked) request_take_ahead(c); /* an answer not taken yet */
    if (c->ahead.active && send_msg(c->ahead.sock, MSG_RUN, fds, RUN_FDS) == 0) {
      close_pipe(q->wt);
      q->wt[0] = dup(c->ahead.wait);
      q->ahead = true;
      q->zygote = c->ahead.zygote;
      return 0;
    }
    /* it is gone (it failed before its request, or was killed): made as if there were none */
    if (c->ahead.active && !c->ahead.zygote && c->ahead.pidfd >= 0) syscall(SYS_pidfd_send_signal, c->ahead.pidfd, SIGKILL, NULL, 0);
    container_drop_ahead(c);
  }
  /* no program ahead, or it is gone: init forks one */
  int fds[FD_CGROUPS + 2 * MAX_CGROUPS] = {
    [FD_STDOUT] = q->out[1], [FD_STDERR] = q->err[1], [FD_FAIL] = q->fail[1], [FD_WAIT] = q->wt[1], [FD_STDIN] = q->in, [FD_REQUEST] = q->req,
  };
  int n = FD_CGROUPS + cgroup_handoff_fds(&q->cg, fds + FD_CGROUPS);
  if (q->eo.via_zygote) {
    if (!zygote_alive(c)) { fail_set(f, STEP_ZYGOTE_GONE, ESRCH); return -1; }
    if (send_msg(c->zygote.sock, MSG_FORK, fds, n) < 0) { fail_set(f, STEP_ZYGOTE_GONE, errno); return -1; }
    q->zygote = true;
    return 0;
  }
  if (send_msg(c->ctl, MSG_FORK, fds, n) < 0) { fail_set(f, STEP_CONTAINER_EXEC, errno); return -1; }
  return 0;
}

void request_init(struct request *q) {
  memset(q, 0, sizeof *q);
  q->in = q->cancel = q->req = q->pidfd = q->sfd = q->stream = q->zygote_sock = -1;
  q->out[0] = q->out[1] = q->err[0] = q->err[1] = q->fail[0] = q->fail[1] = q->wt[0] = q->wt[1] = -1;
}

int request_prepare(struct container *c, struct request *q, struct failure *f) {
  if (request_memfd(q, f) < 0) return -1;
  return request_cgroup(c, q, f);
}

int request_restart(struct container *c, struct request *q, struct failure *f) {
  int *ends[] = { q->out, q->err, q->fail, q->wt };
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) close_pipe(ends[i]);
  q->ahead = false;
  return request_start(c, q, f);
}

int request_start(struct container *c, struct request *q, struct failure *f) {
  if (request_pipes(q, f) < 0) return -1;
  if (request_hand_over(c, q, f) < 0) return -1;
  /* the program's ends are its own now */
  close(q->out[1]); close(q->err[1]); close(q->fail[1]);
  q->out[1] = q->err[1] = q->fail[1] = -1;
  if (q->wt[1] >= 0) { close(q->wt[1]); q->wt[1] = -1; }
  return 0;
}

/* What request_finish learns as the program runs */
struct watch {
  const char *killed_for; /* the status of a program killed for a limit, or a cancel */
  int sig[32], nsig;      /* the caller's signals for a program not started yet, in order (more are dropped) */
  bool have_pid, done, failed, kill_sent, cancelled;
  int64_t kill_at;        /* when it was last killed (request_kill) */
  bool ready;             /* --zygote: it said it is ready (it runs on) */
  int stream_err;         /* a streamed execution's caller could not be read: the errno */
  struct waited w;        /* the program's pid, then its end */
  int wgot;
  struct failure pf;      /* a set-up failure reported by init or the program */
  int pfgot;
};

static void cancel(struct watch *x) {
  x->cancelled = true;
  if (!x->killed_for) x->killed_for = "cancelled";
}

/* Kills what runs once a limit is hit or the execution is cancelled. With a
 * cgroup, done again on each tick until the program's end is seen
 * (KILL_AGAIN_US): a kill that comes while init is still forking the
 * program, before it has joined its cgroup, finds the cgroup empty, and the
 * program would then run on past every limit. Without one the first kill is
 * by the program's pidfd, or ends the whole container. */
#define KILL_AGAIN_US 10000
static void request_kill(const struct container *c, const struct request *q, struct watch *x) {
  x->kill_sent = true;
  x->kill_at = now_us();
  if (q->cg.n) cgroup_kill_all(&q->cg);
  else if (x->have_pid && q->pidfd >= 0) syscall(SYS_pidfd_send_signal, q->pidfd, SIGKILL, NULL, 0);
  else kill(c->init, SIGKILL); /* the program's pidfd unknown: the whole container goes */
}

void relay_sigaddset(sigset_t *set) {
  if (SIGRTMIN > RELAY_BASE + 1 || SIGRTMAX < RELAY_BASE + 2 * RELAY_SIGNALS) return;
  for (int s = RELAY_BASE + 1; s <= RELAY_BASE + 2 * RELAY_SIGNALS; s++) sigaddset(set, s);
}

int relay_of(int signo, int *parity) {
  if (SIGRTMIN > RELAY_BASE + 1 || signo <= RELAY_BASE || signo > RELAY_BASE + 2 * RELAY_SIGNALS) return 0;
  *parity = (signo - RELAY_BASE - 1) / RELAY_SIGNALS;
  return (signo - RELAY_BASE - 1) % RELAY_SIGNALS + 1;
}

/* Whether a signal can reach the program: it has exec'd (a signal to it
 * while it is set up, or forked ahead and waiting, would end it before it
 * ran), and its cgroup or its pidfd is known. */
static bool can_signal(const struct request *q, const struct watch *x) {
  return q->started && (q->cg.n || (x->have_pid && q->pidfd >= 0));
}

/* The caller's signal N (a MSG_SIGNAL frame, or a relayed signal) for every
 * process of the execution: its cgroup's (never the launcher nor init, which
 * are not in it), or without one the program's, by its pidfd. Held until the
 * program has started; dropped once it has ended, or when N is no signal. */
static void signal_program(const struct request *q, struct watch *x, int n) {
  if (n < 1 || n >= 32 || x->done) return;
  if (!can_signal(q, x)) {
    if (x->nsig < (int)(sizeof x->sig / sizeof x->sig[0])) x->sig[x->nsig++] = n;
    return;
  }
  if (q->cg.n) cgroup_signal_all(&q->cg, n);
  else syscall(SYS_pidfd_send_signal, q->pidfd, n, NULL, 0);
}

/* What is on the failure pipe now (its read end is non-blocking) */
static void read_failure(struct request *q, struct watch *x) {
  if (q->fail[0] < 0 || x->pfgot == (int)sizeof x->pf) return;
  ssize_t k = read(q->fail[0], (char *)&x->pf + x->pfgot, sizeof x->pf - (size_t)x->pfgot);
  if (k > 0) x->pfgot += (int)k;
}

/* Reads the program's pid, then its end, from the wait pipe. */
static void read_wait(const struct container *c, struct request *q, struct watch *x, struct exec_result *r, struct failure *f) {
  ssize_t k = read(q->wt[0], (char *)&x->w + x->wgot, sizeof x->w - (size_t)x->wgot);
  if (k > 0) x->wgot += (int)k;
  if (x->wgot == (int)sizeof x->w && !x->have_pid) {
    x->have_pid = true; x->wgot = 0;
    /* init sent its pidfd before its pid (a pid of the container's pid namespace) */
    if (q->ahead) q->pidfd = c->ahead.pidfd >= 0 ? dup(c->ahead.pidfd) : -1;
    else if (q->zygote) q->pidfd = -1; /* the zygote's child: reached through its cgroup */
    else {
      enum msg type;
      int pfd;
      int n = recv_msg(c->ctl, &type, &pfd, 1);
      if (n == 1 && type == MSG_FORKED) q->pidfd = pfd;
      else if (n == 1) close(pfd);
    }
  }
  else if (x->wgot == (int)sizeof x->w) { x->done = true; close(q->wt[0]); q->wt[0] = -1; }
  if (k <= 0) {
    close(q->wt[0]); q->wt[0] = -1;
    if (!x->done) {
      x->done = true;
      if (x->killed_for) x->w.status = SIGKILL; /* init was killed before it could report: the program died with it */
      else {
        read_failure(q, x); /* not polled for (a zygote's child): what it wrote before it ended */
        if (!x->pfgot) { fail_set(f, STEP_EXEC_HELPER, EIO); x->failed = true; }
      }
    }
  }
  if (x->done) {
    r->wall_ms = (double)(now_us() - q->t0) / 1000.0;
    if (q->cg.n) cgroup_kill_all(&q->cg); /* no process outlives its execution */
  }
}

/* A frame of output that the caller's stdout (non-blocking, served) did not
 * take whole: the rest of it. While there is one, the program's pipes are not
 * read (the program blocks on its writes, as on any full pipe), and the
 * limits are enforced all the same. */
struct out_pending { unsigned char buf[5 + 65536 + 5 + 24]; size_t len, off; };

/* A MSG_USAGE frame's payload: CG's CPU time (µs), peak memory (bytes) and OOM kills as read now, int64 little-endian (-1: unread) */
static void usage_payload(struct cgroup *cg, unsigned char out[24]) {
  long long v[3] = { cgroup_cpu_us(cg), cgroup_peak_bytes(cg), cgroup_oom_kills(cg) };
  for (int k = 0; k < 3; k++)
    for (int b = 0; b < 8; b++) out[k * 8 + b] = (unsigned char)((unsigned long long)v[k] >> (8 * b));
}

/* Bytes of the program's stdout (I 0) or stderr (1) to the caller; USAGE
 * (--usage-frames, stdout only): the execution's cgroup is read first, and a
 * MSG_USAGE frame goes just before the stdout frame, in the same write, so
 * that a caller that finds a response complete in a chunk of stdout has
 * already read the usage up to it. */
static void pass_on(const struct sink *to, int i, const char *buf, size_t n, struct out_pending *p, struct cgroup *usage) {
  if (to->fd < 0) { write_all(i == 0 ? 1 : 2, buf, n); return; }
  unsigned char h[5], uh[5], u[24];
  frame_header(h, i == 0 ? MSG_STDOUT : MSG_STDERR, n);
  struct iovec all[4] = { { uh, sizeof uh }, { u, sizeof u }, { h, sizeof h }, { (void *)buf, n } };
  struct iovec *iov = all + 2;
  int niov = 2;
  if (i == 0 && usage) {
    usage_payload(usage, u);
    frame_header(uh, MSG_USAGE, sizeof u);
    iov = all;
    niov = 4;
  }
  ssize_t w = write_somev(to->fd, iov, niov);
  /* a closed stdout must not stop the accounting: write errors are ignored */
  if (w < 0 && errno != EAGAIN) return;
  p->off = 0;
  p->len = 0;
  for (int k = 0; k < niov; k++) { memcpy(p->buf + p->len, iov[k].iov_base, iov[k].iov_len); p->len += iov[k].iov_len; }
}

/* What the caller's stdout takes of the pending frame; BLOCK: all of it (the program has ended) */
static void flush_out(int fd, struct out_pending *p, bool block) {
  while (p->off < p->len) {
    ssize_t w = write(fd, p->buf + p->off, p->len - p->off);
    if (w > 0) { p->off += (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN && block) { struct pollfd pf = { fd, POLLOUT, 0 }; poll(&pf, 1, -1); continue; }
    if (w < 0 && errno == EAGAIN) return;
    break; /* the caller is gone: dropped, as pass_on's write errors are */
  }
  p->len = p->off = 0;
}

/* Bytes of a MSG_STDIN frame taken from the caller, not yet in the program's
 * stdin pipe: at most one buffer. While there are some, the caller is not
 * read (its writes wait: the backpressure). END: the caller's MSG_STDIN_END
 * came, the pipe is closed once they are written. */
struct in_pending { char buf[65536]; size_t len, off; bool end; };

/* Writes what the program's stdin pipe takes; closes it at the end the caller
 * asked for, or once the program closed its end (EPIPE, SIGPIPE being
 * ignored: the rest of the input is dropped). */
static void feed_stdin(struct request *q, struct in_pending *in) {
  while (q->stream >= 0 && in->off < in->len) {
    ssize_t w = write(q->stream, in->buf + in->off, in->len - in->off);
    if (w > 0) { in->off += (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    close(q->stream); q->stream = -1;
  }
  in->len = in->off = 0;
  if (in->end && q->stream >= 0) { close(q->stream); q->stream = -1; }
}

/* One read of the caller's frames during a streamed execution: a header, or
 * a piece of a payload (into IN, which is empty here). MSG_STDIN's bytes go
 * to the program's stdin; MSG_STDIN_END closes it; a cancel frame, or any
 * other frame, cancels the execution, as does EOF. */
static void read_caller(struct request *q, struct in_pending *in, struct watch *x) {
  struct caller *from = q->from;
  bool header = from->hgot < (int)sizeof from->h;
  bool signo = !header && from->type == MSG_SIGNAL; /* its 4-byte payload: the signal's number */
  size_t want = header ? sizeof from->h - (size_t)from->hgot : signo ? (size_t)from->left : from->left < sizeof in->buf ? (size_t)from->left : sizeof in->buf;
  char *into = header ? (char *)from->h + from->hgot : signo ? (char *)from->arg + from->argot : in->buf;
  ssize_t k = read(0, into, want);
  if (k < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (k <= 0) { if (k < 0) x->stream_err = errno; cancel(x); return; }
  if (header) {
    from->hgot += (int)k;
    if (from->hgot < (int)sizeof from->h) return;
    from->type = (enum msg)from->h[0];
    from->left = (uint64_t)le32(from->h + 1) + le32(from->h + 5);
    if (from->type == MSG_STDIN_END) { in->end = true; feed_stdin(q, in); }
    else if (from->type == MSG_SIGNAL && from->left == sizeof from->arg) from->argot = 0;
    else if (from->type != MSG_STDIN) cancel(x); /* a cancel, another request, or a malformed signal frame */
  } else {
    from->left -= (uint64_t)k;
    if (signo) { from->argot += (int)k; if (!from->left) signal_program(q, x, (int)le32(from->arg)); }
    else if (from->type == MSG_STDIN && !in->end && q->stream >= 0) { in->len = (size_t)k; in->off = 0; feed_stdin(q, in); }
  }
  if (from->hgot == (int)sizeof from->h && !from->left) from->hgot = 0; /* the frame is whole: the next header */
}

/* Pumps the program's output (capped), watches its limits and the caller,
 * until it has ended and its output is drained. */
static void drain(const struct container *c, struct request *q, const struct sink *to, struct watch *x, struct exec_result *r, struct failure *f) {
  const struct opts *o = &q->eo;
  long long cap = o->output_kb >= 0 ? (long long)o->output_kb * 1024 : -1;
  long long total = 0;
  /* the CPU limit's first check is a tick after the start (nothing has run at the start) */
  int64_t deadline = o->wall_ms > 0 ? q->t0 + o->wall_ms * 1000 : 0, drain_until = 0, cpu_checked = now_us();
  int pumps[2] = { q->out[0], q->err[0] };
  long long *counts[2] = { &r->stdout_bytes, &r->stderr_bytes };
  bool *truncated[2] = { &r->stdout_truncated, &r->stderr_truncated };
  bool streamed = o->stdin_stream && q->from;
  static struct out_pending out; /* static: 64 KiB each, and one execution at a time */
  int64_t usage_at = 0; /* when the last MSG_USAGE frame was read (--usage-frames) */
  static struct in_pending in;
  out.len = out.off = 0;
  memset(&in, 0, sizeof in);
  for (;;) {
    struct pollfd pf_[8];
    int nf = 0;
    int idx_pump[2] = { -1, -1 }, idx_fail = -1, idx_wait = -1, idx_sig = -1, idx_cancel = -1, idx_stdin = -1, idx_out = -1, idx_zygote = -1;
    if (q->sfd >= 0 && !x->cancelled) { idx_sig = nf; pf_[nf++] = (struct pollfd){ q->sfd, POLLIN, 0 }; }
    /* served: anything from the caller during an execution cancels it (as does
     * EOF), unless it is streamed: then its frames are read while one buffer
     * of stdin is pending at most (POLLHUP still says the caller is gone) */
    if (q->cancel >= 0 && !x->cancelled && !(streamed && x->done)) {
      idx_cancel = nf;
      pf_[nf++] = (struct pollfd){ q->cancel, (short)(streamed && in.len ? 0 : POLLIN), 0 };
    }
    if (streamed && q->stream >= 0 && in.len && !x->done) { idx_stdin = nf; pf_[nf++] = (struct pollfd){ q->stream, POLLOUT, 0 }; }
    if (out.len) { idx_out = nf; pf_[nf++] = (struct pollfd){ to->fd, POLLOUT, 0 }; }
    else for (int i = 0; i < 2; i++) if (pumps[i] >= 0) { idx_pump[i] = nf; pf_[nf++] = (struct pollfd){ pumps[i], POLLIN, 0 }; }
    /* a zygote's child closes its failure pipe just before it returns into the
     * runtime: a launcher woken by that takes the CPU the child is about to
     * run the invocation on. Its pipe is read at its end (a failure comes
     * before its exit), and it is not started (no signal is relayed to it:
     * its execution is not streamed) */
    if (q->fail[0] >= 0 && !(o->via_zygote && !streamed)) { idx_fail = nf; pf_[nf++] = (struct pollfd){ q->fail[0], POLLIN, 0 }; }
    if (q->wt[0] >= 0 && !x->ready) { idx_wait = nf; pf_[nf++] = (struct pollfd){ q->wt[0], POLLIN, 0 }; }
    if (q->zygote_sock >= 0 && !x->done) { idx_zygote = nf; pf_[nf++] = (struct pollfd){ q->zygote_sock, POLLIN, 0 }; }
    if (x->done && pumps[0] < 0 && pumps[1] < 0) break;
    int64_t now = now_us();
    int timeout = q->cg.n && (o->cpu_ms > 0 || (x->killed_for && !x->done)) ? KILL_AGAIN_US / 1000 : 1000;
    if (deadline && !x->done) {
      /* past it: never a timeout from it (a negative one would be poll's "forever") */
      if (now >= deadline) { if (!x->killed_for) x->killed_for = "time_limit_exceeded"; }
      else if (deadline - now < timeout * 1000) timeout = (int)((deadline - now) / 1000) + 1;
    }
    if (x->done && !out.len) { /* while the caller takes a pending frame, it is waited for */
      if (!drain_until) drain_until = now + 200000;
      if (now >= drain_until) break; /* no cgroup and an orphan holds the pipe: stop waiting */
      timeout = (int)((drain_until - now) / 1000) + 1;
    }
    /* the CPU limit is checked on the poll's tick (10 ms), not on every wake-up:
     * output and frames wake the loop far more often, and each reading opens
     * and reads a cgroup file */
    if (!x->killed_for && o->cpu_ms > 0 && q->cg.n && !x->done && now - cpu_checked >= 10000) {
      cpu_checked = now;
      long long us = cgroup_cpu_us(&q->cg);
      if (us > o->cpu_ms * 1000) x->killed_for = "time_limit_exceeded";
    }
    if (x->killed_for && !x->done && (!x->kill_sent || (q->cg.n && now - x->kill_at >= KILL_AGAIN_US))) request_kill(c, q, x);
    int n = poll(pf_, (nfds_t)nf, timeout);
    if (n < 0 && errno != EINTR) { fail_set(f, STEP_POLL, errno); x->failed = true; break; }
    if (n <= 0) continue;
    if (idx_sig >= 0 && pf_[idx_sig].revents) {
      struct signalfd_siginfo si;
      int parity = 0, relayed = read(q->sfd, &si, sizeof si) == (ssize_t)sizeof si ? relay_of((int)si.ssi_signo, &parity) : -1;
      /* a relayed signal for this streamed execution is passed on; one for the execution before, or for one not streamed, is dropped */
      if (relayed > 0 && streamed && parity == q->parity) signal_program(q, x, relayed);
      else if (relayed == 0) {
        cancel(x);
        if (si.ssi_signo != SIGUSR1) q->cancelled_by_signal = true; /* SIGUSR1 cancels this execution alone */
      }
    }
    if (idx_cancel >= 0 && pf_[idx_cancel].revents) {
      if (!streamed) {
        char frame[9];
        (void)!read(q->cancel, frame, sizeof frame); /* one cancel frame; EOF: the caller is gone */
        cancel(x);
      }
      else if (pf_[idx_cancel].revents & POLLIN) read_caller(q, &in, x);
      else cancel(x); /* POLLHUP, POLLERR: the caller is gone */
    }
    if (idx_stdin >= 0 && pf_[idx_stdin].revents) feed_stdin(q, &in);
    if (idx_out >= 0 && pf_[idx_out].revents) flush_out(to->fd, &out, false);
    for (int i = 0; i < 2; i++) {
      if (idx_pump[i] < 0 || !pf_[idx_pump[i]].revents || out.len) continue;
      char buf[65536];
      ssize_t k = read(pumps[i], buf, sizeof buf);
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (k <= 0) { close(pumps[i]); pumps[i] = -1; continue; }
      ssize_t keep = k;
      if (cap >= 0 && total + k > cap) {
        keep = (ssize_t)(cap - total);
        r->output_truncated = *truncated[i] = true; /* this stream lost bytes */
        if (!x->killed_for) x->killed_for = "output_limit_exceeded";
      }
      /* a reading at most once a millisecond: a program that writes its stdout a byte at a time makes
       * the launcher read no more cgroup files for it than that (the caller reads them itself for a
       * chunk that came without one) */
      bool usage = i == 0 && o->usage_frames && q->cg.n && now_us() - usage_at >= 1000;
      if (usage) usage_at = now_us();
      if (keep > 0) pass_on(to, i, buf, (size_t)keep, &out, usage ? &q->cg : NULL);
      total += keep;
      *counts[i] += keep;
    }
    if (idx_fail >= 0 && pf_[idx_fail].revents) {
      ssize_t k = read(q->fail[0], (char *)&x->pf + x->pfgot, sizeof x->pf - (size_t)x->pfgot);
      if (k > 0) x->pfgot += (int)k;
      if (k == 0 && x->pfgot == 0) q->started = now_us(); /* closed on exec: the program started */
      if (k <= 0 || x->pfgot == (int)sizeof x->pf) { close(q->fail[0]); q->fail[0] = -1; }
    }
    if (idx_wait >= 0 && pf_[idx_wait].revents) read_wait(c, q, x, r, f);
    /* --zygote: ready once it says so on its control socket (it has closed its
     * stdout and stderr first); it keeps running, in its cgroup (serve.c) */
    if (idx_zygote >= 0 && (pf_[idx_zygote].revents & POLLIN) && !x->done) {
      char ready = 0;
      if (read(q->zygote_sock, &ready, 1) == 1 && ready == 'R') {
        x->ready = x->done = true;
        r->wall_ms = (double)(now_us() - q->t0) / 1000.0;
      }
    }
    if (x->nsig && can_signal(q, x)) { /* the signals that came before the program started */
      int n = x->nsig;
      x->nsig = 0;
      for (int i = 0; i < n; i++) signal_program(q, x, x->sig[i]);
    }
  }
  if (out.len) flush_out(to->fd, &out, true); /* the program has ended: its output before its status */
  for (int i = 0; i < 2; i++) if (pumps[i] >= 0) close(pumps[i]);
  q->out[0] = q->err[0] = -1;
  if (q->stream >= 0) { close(q->stream); q->stream = -1; } /* the program has ended: what is pending of its stdin is dropped */
}

/* The accounting of an execution that ran, and its status. */
static void account(struct request *q, const struct watch *x, struct exec_result *r) {
  const struct waited *w = &x->w;
  struct cgroup *cg = &q->cg;
  long long cpu_us = cg->n ? cgroup_cpu_us(cg) : -1;
  if (cpu_us < 0) cpu_us = w->cpu_us;
  r->cpu_ms = (double)cpu_us / 1000.0;
  long long peak = cg->n ? cgroup_peak_bytes(cg) : -1;
  r->memory_kb = peak >= 0 ? peak / 1024 : w->maxrss_kb;
  long long ooms = cg->n ? cgroup_oom_kills(cg) : 0;
  r->oom_killed = ooms > 0;
  if (WIFEXITED(w->status)) { r->exited = true; r->exit_code = WEXITSTATUS(w->status); }
  else if (WIFSIGNALED(w->status)) r->signal = WTERMSIG(w->status);
  bool over_cpu = q->eo.cpu_ms > 0 && cpu_us > q->eo.cpu_ms * 1000;
  if (x->killed_for) r->status = x->killed_for;
  else if (over_cpu || r->signal == SIGXCPU) r->status = "time_limit_exceeded";
  else if (r->oom_killed) r->status = "memory_limit_exceeded";
  else if (r->signal || r->exit_code != 0) r->status = "runtime_error";
  else r->status = "ok";
}

/* SIGTERM, SIGINT, SIGHUP or SIGUSR1 (blocked since main) cancel the
 * execution: everything is killed and cleaned up as on any other end, and
 * the status says "cancelled". Served, set up before the hand-over (the
 * program, woken by it, waits for this CPU while the launcher works); a
 * one-shot's, once its container is built (request_finish). */
void request_signals(struct request *q) {
  if (q->sfd >= 0) return;
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM); sigaddset(&term, SIGINT); sigaddset(&term, SIGHUP);
  sigaddset(&term, SIGUSR1); /* served: cancels this execution, the container stays (serve.c) */
  sigprocmask(SIG_BLOCK, &term, NULL);
  relay_sigaddset(&term); /* read here, never a cancel: the caller's signals for the program (blocked since main) */
  q->sfd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
}

int request_finish(struct container *c, struct request *q, const struct sink *to, bool last, struct exec_result *r, struct failure *f) {
  struct watch x;
  memset(&x, 0, sizeof x);
  memset(r, 0, sizeof *r);
  request_signals(q);
  q->t0 = now_us(); /* the program's clock: from here (a one-shot's container is built by now) */

  drain(c, q, to, &x, r, f);
  if (x.ready) {
    /* A zygote is one process: one its import left running beside it (a
     * daemon, a helper) would outlive every child and could carry what one
     * child tells it to the next. Such a zygote is refused, and killed. */
    int procs = cgroup_count(&q->cg);
    for (int tries = 0; procs > 1 && tries < 100; tries++) { /* the program ahead, killed at the hand-over, may be on its way out */
      struct timespec ts = { 0, 1000000 };
      nanosleep(&ts, NULL);
      procs = cgroup_count(&q->cg);
    }
    if (procs != 1) {
      cgroup_kill_all(&q->cg);
      fail_set(f, STEP_ZYGOTE_NOT_ALONE, procs < 0 ? EIO : EBUSY);
      return -1;
    }
    q->zygote_ready = true;
    /* init wrote its pid before the zygote ever ran: what is left on the wait pipe is its end */
    if (!x.have_pid && read_full(q->wt[0], &x.w, sizeof x.w) == (int)sizeof x.w) x.have_pid = true;
    memset(&x.w, 0, sizeof x.w);
  }

  read_failure(q, &x); /* init or the program may have reported before closing */
  q->exec_us = now_us() - q->t0;
  /* one-shot: the container has served its purpose. Kill it now so that the
   * kernel tears its namespaces down while the accounting is read and the
   * cgroups removed; container_destroy() reaps it. */
  if (last && c->init > 0) kill(c->init, SIGKILL);
  if (x.stream_err) { fail_set(f, STEP_STDIN_STREAM, x.stream_err); x.failed = true; }
  else if (x.cancelled) { fail_set(f, STEP_CANCELLED, ECANCELED); x.failed = true; }
  else if (x.pfgot == (int)sizeof x.pf) { *f = x.pf; x.failed = true; }
  if (!x.failed && !x.done) { fail_set(f, STEP_EXEC_HELPER, EIO); x.failed = true; }
  if (x.failed) return -1;
  account(q, &x, r);
  return 0;
}

void request_end(struct container *c, struct request *q) {
  int *ends[] = { q->out, q->err, q->fail, q->wt };
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) close_pipe(ends[i]);
  int *fds[] = { &q->req, &q->pidfd, &q->sfd, &q->stream };
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) if (*fds[i] >= 0) { close(*fds[i]); *fds[i] = -1; }
  if (q->cg.n) {
    container_drop_ahead(c); /* used, or killed with the cgroup it was forked into */
    if (!q->in_own) cgroup_destroy(&q->cg);
    else { /* the container's own: emptied, and what it charged stays charged there */
      cgroup_kill_all(&q->cg);
      cgroup_close_stats(&q->cg); /* this copy's; the container's own struct opened none */
      q->cg.n = 0;
      c->flat = false;
    }
  }
}

int request_unpack(struct container *c, int files, struct failure *f) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) { fail_set(f, STEP_PIPE, errno); return -1; }
  int fds[2] = { files, p[1] };
  int rc = send_msg(c->ctl, MSG_UNPACK, fds, 2);
  close(p[1]);
  if (rc < 0) { fail_set(f, STEP_CONTAINER_EXEC, errno); close(p[0]); return -1; }
  struct failure got;
  int n = read_full(p[0], &got, sizeof got);
  close(p[0]);
  if (n != (int)sizeof got) { fail_set(f, STEP_UNPACK, n < 0 ? errno : EPIPE); return -1; } /* init is gone */
  if (got.step != STEP_NONE) { *f = got; return -1; }
  return 0;
}

/* A program forked ahead into the next cgroup (MSG_FORK_AHEAD): a request
 * that runs in that cgroup skips init's fork and the program's cgroup,
 * session and identity set-up. Nothing runs in the container meanwhile: it is
 * forked while init builds the container, or after an answer, when that
 * execution's cgroup has been emptied. */
void request_ask_ahead(struct container *c) {
  struct cgroup *into = c->flat ? &c->own : &c->next;
  if (!into->n || c->ahead.asked || c->ahead.active) return;
  /* a container with a zygote: its next execution is the zygote's child, made ahead by it */
  bool zygote = c->zygote.sock >= 0;
  int to = zygote ? c->zygote.sock : c->ctl;
  int wt[2], sp[2];
  if (pipe2(wt, O_CLOEXEC) < 0) return;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { close_pipe(wt); return; }
  int fds[2 + 2 * MAX_CGROUPS] = { wt[1], sp[1] };
  int n = 2 + cgroup_handoff_fds(into, fds + 2);
  int rc = send_msg(to, MSG_FORK_AHEAD, fds, n);
  close(wt[1]);
  close(sp[1]);
  if (rc < 0) { close(wt[0]); close(sp[0]); return; }
  c->ahead.asked = true;
  c->ahead.zygote = zygote;
  c->ahead.wait = wt[0];
  c->ahead.sock = sp[0];
}

void request_take_ahead(struct container *c) {
  if (!c->ahead.asked) return;
  enum msg type = 0;
  int pfd = -1;
  int k = recv_msg(c->ahead.zygote ? c->zygote.sock : c->ctl, &type, &pfd, 1);
  if (k < 0 || type != MSG_AHEAD_READY) { /* init could not: requests have their program forked as usual */
    if (k > 0) close(pfd);
    container_drop_ahead(c);
    return;
  }
  c->ahead.asked = false;
  c->ahead.active = true;
  c->ahead.pidfd = k > 0 ? pfd : -1;
}

void request_prepare_next(struct container *c) {
  /* After a first execution that ran in the container's own cgroup, nothing
   * is made ahead: most containers have no second, and one that comes makes
   * the level below (container_next_cgroup) and has its program forked then. */
  if (c->own.n && !c->flat && !c->split) return;
  struct failure ignored; /* if it cannot be made now, the next request makes it, and answers its failure */
  if (container_next_cgroup(c, &ignored) < 0) return;
  /* limited as the last request was, before anything enters it: the next request, if it asks the
   * same, writes nothing (if this fails, what was written is not known, and the request writes it all) */
  if (c->last_limits.set) cgroup_limits(&c->next, c->last_limits.memory_mb, c->last_limits.pids, c->last_limits.cpus, &ignored);
  if (c->zygote.sock >= 0 && !zygote_alive(c)) return;
  request_ask_ahead(c);
  request_take_ahead(c);
}
