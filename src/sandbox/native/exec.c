/* One program in a container.
 *
 *   launcher (host namespaces: cgroups, pipes, limits, accounting)
 *     └─ the container's init: forks P, reports its pid and end (container.c, serve.c)
 *          └─ program P: enters its cgroup, new cgroup and IPC namespaces and
 *             session, takes the sandbox identity, closes every fd it does
 *             not need, enters its working directory (resolved inside the
 *             container only), rlimits, drops capabilities, seccomp, execs
 *
 * The launcher never runs inside the container, so nothing in the container can
 * see or signal it. Set-up failures in P come back as {step, errno} on a
 * close-on-exec pipe: a program that did not start never gets an exit code.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(int fd, const char *step, int err) {
  struct failure f;
  fail_set(&f, step, err);
  write_all(fd, &f, sizeof f);
}

/* P: runs in the container's namespaces; everything here happens before untrusted code. */
void exec_program(const struct opts *o, struct cgroup *cg, int out, int err, int failfd, int release, bool priv) {
  struct failure f = { "", 0 };
  /* one-shot: forked while the cwd was still the host's old root (container.c) */
  if (release >= 0 && chdir("/") < 0) { report(failfd, "chdir", errno); _exit(127); }
  if (dup2(out, 1) < 0 || dup2(err, 2) < 0) { report(failfd, "stdio", errno); _exit(127); }
  if (exec_enter(o, cg, priv, &f) < 0) { write_all(failfd, &f, sizeof f); _exit(127); }
  exec_finish(o, failfd, release, priv);
}

int exec_enter(const struct opts *o, struct cgroup *cg, bool priv, struct failure *f) {
  if (cg->n && cgroup_enter(cg) < 0) { fail_set(f, "cgroup-enter", errno); return -1; }
  /* entered: its files (v2, a host directory) are of no further use, and must
   * not be open while any path is resolved (paths.c) */
  cgroup_close_fds(cg);
  /* a cgroup namespace rooted at its own cgroup: the host's cgroup paths stay
   * hidden; an IPC namespace of its own: System V shared memory, message
   * queues, semaphores and POSIX message queues die with the execution (the
   * kernel frees them with the namespace) instead of piling up in the
   * container, charged to no live execution's memory limit */
  if (unshare(CLONE_NEWCGROUP) < 0) { fail_set(f, "cgroup-namespace", errno); return -1; }
  if (unshare(CLONE_NEWIPC) < 0) { fail_set(f, "ipc-namespace", errno); return -1; }
  /* a new session with no controlling terminal: no TIOCSTI into the caller's tty (CVE-2017-5226) */
  if (setsid() < 0) { fail_set(f, "setsid", errno); return -1; }
  if (userns_become(o->uid, o->gid, priv, f) < 0) return -1;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(f, "pdeathsig", errno); return -1; }
  return 0;
}

/* The working directory: resolved inside the container's root, through no
 * /proc magic link, then checked to lie below the root (getcwd() answers
 * "(unreachable)..." or fails for a directory outside it). */
static int enter_workdir(const char *path, struct failure *f) {
  int d = open_in_root(path, O_PATH | O_DIRECTORY, false);
  if (d < 0) { fail_set(f, "chdir", errno); return -1; }
  int rc = fchdir(d);
  int saved = errno;
  close(d);
  if (rc < 0) { fail_set(f, "chdir", saved); return -1; }
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/') { fail_set(f, "chdir", EXDEV); return -1; }
  return 0;
}

void exec_finish(const struct opts *o, int failfd, int release, bool priv) {
  struct failure f = { "", 0 };
  /* nothing but stdio, the failure pipe and (one-shot) the release pipe stays open */
  int keep[2] = { failfd, release };
  if (close_fds_except(keep, 2) < 0) { fail_set(&f, "close-fds", errno); goto fail; }
  /* one-shot: nothing is resolved before the host's old root is detached */
  if (release >= 0) { char b; if (read(release, &b, 1) != 1) _exit(127); close(release); }
  if (enter_workdir(o->chdir, &f) < 0) goto fail;
  if (rlimits_apply(o, &f) < 0) goto fail;
  if (caps_drop_all(&f) < 0) goto fail;
  environ = (char **)o->env;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (seccomp_install(&f) < 0) goto fail;
  execve_program(o->argv, o->workdir, &f);
fail:
  write_all(failfd, &f, sizeof f);
  _exit(127);
}

struct pump { int fd; int to; long long *count; bool *truncated; };

/* One-shot: the execution's pipes, made and handed to init while it still
 * builds the container, so that it forks the program as soon as it is done. */
static struct { bool sent; int out[2], err[2], fail[2], wt[2]; } pre;

int exec_handover(const struct opts *o, const struct container *c, const struct cgroup *cg, struct failure *f) {
  if (pipe2(pre.out, O_CLOEXEC) || pipe2(pre.err, O_CLOEXEC) || pipe2(pre.fail, O_CLOEXEC) || pipe2(pre.wt, O_CLOEXEC)) {
    fail_set(f, "pipe", errno); return -1;
  }
  int fds[4 + 2 * MAX_CGROUPS] = { pre.out[1], pre.err[1], pre.fail[1], pre.wt[1] };
  int n = 4 + cgroup_handoff_fds(cg, fds + 4);
  if (send_fds(c->ctl, fds, n) < 0) { fail_set(f, "container-exec", errno); return -1; }
  pre.sent = true;
  return 0;
}

/* One execution in flight: how P was started, its channels, and what came back. */
struct execution {
  bool ahead;       /* served: P was forked ahead (serve.c) */
  pid_t e;          /* the container's init: killing it kills the whole container */
  int pidfd;        /* P, sent back by init */
  int out[2], err[2], fail[2], wt[2];
  int sfd;          /* SIGTERM, SIGINT, SIGHUP */
  int64_t t0;
  const char *killed_for;
  bool have_pid, done, failed, kill_sent, cancelled;
  struct waited w;  /* P's pid, then its end */
  int wgot;
  struct failure pf; /* a set-up failure reported by init or P */
  int pfgot;
};

/* Starts P: hands its fds to the program forked ahead, or to init.
 * Returns -1 (F set) when nothing was started. */
static int exec_start(const struct container *c, struct cgroup *cg, struct served *sv, struct execution *x, struct failure *f) {
  x->e = c->init;
  /* a program forked ahead takes its fds itself (serve.c); if it is gone, init forks one */
  int afds[5] = { x->out[1], x->err[1], x->fail[1], sv ? sv->stdin_fd : -1, sv ? sv->request_fd : -1 };
  if (sv && sv->ahead_sock >= 0 && send_msg(sv->ahead_sock, 'x', afds, 5) == 0) {
    close(x->wt[0]); close(x->wt[1]);
    x->wt[0] = dup(sv->ahead_wait); x->wt[1] = -1; /* its pid is waiting there already */
    x->ahead = true;
    return 0;
  }
  if (pre.sent) return 0; /* one-shot: init has them already (exec_handover) */
  int fds[6 + 2 * MAX_CGROUPS] = { x->out[1], x->err[1], x->fail[1], x->wt[1] }, nfds = 4;
  if (sv) {
    fds[nfds++] = sv->stdin_fd;
    fds[nfds++] = sv->request_fd;
  }
  nfds += cgroup_handoff_fds(cg, fds + nfds);
  if (send_fds(c->ctl, fds, nfds) < 0) { fail_set(f, "container-exec", errno); return -1; }
  return 0;
}

/* Kills what runs once a limit is hit or the execution is cancelled. */
static void exec_kill(struct execution *x, const struct cgroup *cg) {
  x->kill_sent = true;
  if (cg->n) cgroup_kill_all(cg);
  else if (x->have_pid && x->pidfd >= 0) syscall(SYS_pidfd_send_signal, x->pidfd, SIGKILL, NULL, 0);
  else kill(x->e, SIGKILL); /* P's pidfd unknown: the whole container goes */
}

/* Reads P's pid, then its end, from the wait pipe. */
static void exec_read_wait(const struct container *c, struct cgroup *cg, struct served *sv, struct execution *x, struct exec_result *r, struct failure *f) {
  ssize_t k = read(x->wt[0], (char *)&x->w + x->wgot, sizeof x->w - (size_t)x->wgot);
  if (k > 0) x->wgot += (int)k;
  if (x->wgot == (int)sizeof x->w && !x->have_pid) {
    x->have_pid = true; x->wgot = 0;
    /* init sent P's pidfd before P's pid (its pid is one of the container's pid namespace) */
    if (x->ahead) x->pidfd = sv->ahead_pidfd >= 0 ? dup(sv->ahead_pidfd) : -1;
    else { int pfd; if (recv_fds(c->ctl, &pfd, 1) == 1) x->pidfd = pfd; }
  }
  else if (x->wgot == (int)sizeof x->w) { x->done = true; close(x->wt[0]); x->wt[0] = -1; }
  if (k <= 0) {
    close(x->wt[0]); x->wt[0] = -1;
    if (!x->done) {
      x->done = true;
      if (x->killed_for) x->w.status = SIGKILL; /* init was killed before it could report: P died with it */
      else if (!x->pfgot) { fail_set(f, "exec-helper", EIO); x->failed = true; }
    }
  }
  if (x->done) {
    r->wall_ms = (double)(now_us() - x->t0) / 1000.0;
    if (cg->n) cgroup_kill_all(cg); /* no process outlives its execution */
  }
}

/* Pumps P's output (capped), watches its limits and the caller, until P has
 * ended and its output is drained. */
static void exec_drain(const struct opts *o, const struct container *c, struct cgroup *cg, struct served *sv,
                       struct execution *x, struct exec_result *r, struct failure *f, int64_t *timing) {
  long long cap = o->output_kb >= 0 ? (long long)o->output_kb * 1024 : -1;
  long long total = 0;
  int64_t deadline = o->wall_ms > 0 ? x->t0 + o->wall_ms * 1000 : 0, drain_until = 0;
  struct pump pumps[2] = { { x->out[0], 1, &r->stdout_bytes, &r->stdout_truncated }, { x->err[0], 2, &r->stderr_bytes, &r->stderr_truncated } };
  for (;;) {
    struct pollfd pf_[6];
    int nf = 0;
    int idx_pump[2] = { -1, -1 }, idx_fail = -1, idx_wait = -1, idx_sig = -1;
    if (x->sfd >= 0 && !x->cancelled) { idx_sig = nf; pf_[nf++] = (struct pollfd){ x->sfd, POLLIN, 0 }; }
    int idx_cancel = -1; /* served: anything from the caller during an execution cancels it (as does EOF) */
    if (sv && sv->cancel_fd >= 0 && !x->cancelled) { idx_cancel = nf; pf_[nf++] = (struct pollfd){ sv->cancel_fd, POLLIN, 0 }; }
    for (int i = 0; i < 2; i++) if (pumps[i].fd >= 0) { idx_pump[i] = nf; pf_[nf++] = (struct pollfd){ pumps[i].fd, POLLIN, 0 }; }
    if (x->fail[0] >= 0) { idx_fail = nf; pf_[nf++] = (struct pollfd){ x->fail[0], POLLIN, 0 }; }
    if (x->wt[0] >= 0) { idx_wait = nf; pf_[nf++] = (struct pollfd){ x->wt[0], POLLIN, 0 }; }
    if (x->done && pumps[0].fd < 0 && pumps[1].fd < 0) break;
    int64_t now = now_us();
    int timeout = o->cpu_ms > 0 && cg->n ? 10 : 1000;
    if (deadline && !x->done) {
      if (now >= deadline && !x->killed_for) x->killed_for = "time_limit_exceeded";
      else if (deadline - now < timeout * 1000) timeout = (int)((deadline - now) / 1000) + 1;
    }
    if (x->done) {
      if (!drain_until) drain_until = now + 200000;
      if (now >= drain_until) break; /* no cgroup and an orphan holds the pipe: stop waiting */
      timeout = (int)((drain_until - now) / 1000) + 1;
    }
    if (!x->killed_for && o->cpu_ms > 0 && cg->n && !x->done) {
      long long us = cgroup_cpu_us(cg);
      if (us > o->cpu_ms * 1000) x->killed_for = "time_limit_exceeded";
    }
    if (x->killed_for && !x->done && !x->kill_sent) exec_kill(x, cg);
    int n = poll(pf_, (nfds_t)nf, timeout);
    if (n < 0 && errno != EINTR) { fail_set(f, "poll", errno); x->failed = true; break; }
    if (n <= 0) continue;
    if (idx_sig >= 0 && pf_[idx_sig].revents) {
      struct signalfd_siginfo si;
      if (read(x->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        x->cancelled = true; if (!x->killed_for) x->killed_for = "cancelled";
        if (sv) sv->cancelled_by_signal = true;
      }
    }
    if (idx_cancel >= 0 && pf_[idx_cancel].revents) {
      char frame[9];
      (void)!read(sv->cancel_fd, frame, sizeof frame); /* one cancel frame; EOF: the caller is gone */
      x->cancelled = true; if (!x->killed_for) x->killed_for = "cancelled";
    }
    for (int i = 0; i < 2; i++) {
      if (idx_pump[i] < 0 || !pf_[idx_pump[i]].revents) continue;
      char buf[65536];
      ssize_t k = read(pumps[i].fd, buf, sizeof buf);
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (k <= 0) { close(pumps[i].fd); pumps[i].fd = -1; continue; }
      ssize_t keep = k;
      if (cap >= 0 && total + k > cap) {
        keep = (ssize_t)(cap - total);
        r->output_truncated = *pumps[i].truncated = true; /* this stream lost bytes */
        if (!x->killed_for) x->killed_for = "output_limit_exceeded";
      }
      /* a closed stdout must not stop the accounting */
      if (keep > 0) { if (sv) frame_write(sv->out_fd, i == 0 ? 'o' : 'e', buf, (size_t)keep); else write_all(pumps[i].to, buf, (size_t)keep); }
      total += keep;
      *pumps[i].count += keep;
    }
    if (idx_fail >= 0 && pf_[idx_fail].revents) {
      ssize_t k = read(x->fail[0], (char *)&x->pf + x->pfgot, sizeof x->pf - (size_t)x->pfgot);
      if (k > 0) x->pfgot += (int)k;
      if (k == 0 && x->pfgot == 0 && timing) timing[3] = now_us(); /* closed on exec: the program started */
      if (k <= 0 || x->pfgot == (int)sizeof x->pf) { close(x->fail[0]); x->fail[0] = -1; }
    }
    if (idx_wait >= 0 && pf_[idx_wait].revents) exec_read_wait(c, cg, sv, x, r, f);
  }
  for (int i = 0; i < 2; i++) if (pumps[i].fd >= 0) close(pumps[i].fd);
}

/* The accounting of an execution that ran, and its status. */
static void exec_account(const struct opts *o, struct cgroup *cg, struct served *sv, const struct execution *x, struct exec_result *r) {
  const struct waited *w = &x->w;
  long long cpu_us = cg->n ? cgroup_cpu_us(cg) : -1;
  if (cpu_us < 0) cpu_us = (long long)w->ru.ru_utime.tv_sec * 1000000 + w->ru.ru_utime.tv_usec + (long long)w->ru.ru_stime.tv_sec * 1000000 + w->ru.ru_stime.tv_usec;
  r->cpu_ms = (double)cpu_us / 1000.0;
  long long peak = cg->n ? cgroup_peak_bytes(cg) : -1;
  r->memory_kb = peak >= 0 ? peak / 1024 : w->ru.ru_maxrss;
  long long ooms = cg->n ? cgroup_oom_kills(cg) : 0;
  r->oom_killed = ooms > 0;
  if (sv && sv->used) *sv->used = *cg; /* already empty (killed at the end): removed after the answer */
  else cgroup_destroy(cg);

  if (WIFEXITED(w->status)) { r->exited = true; r->exit_code = WEXITSTATUS(w->status); }
  else if (WIFSIGNALED(w->status)) r->signal = WTERMSIG(w->status);
  bool over_cpu = o->cpu_ms > 0 && cpu_us > o->cpu_ms * 1000;
  if (x->killed_for) r->status = x->killed_for;
  else if (over_cpu || r->signal == SIGXCPU) r->status = "time_limit_exceeded";
  else if (r->oom_killed) r->status = "memory_limit_exceeded";
  else if (r->signal || r->exit_code != 0) r->status = "runtime_error";
  else r->status = "ok";
}

/* Nothing was started: close the execution's pipes and remove its cgroups. */
static void exec_unstarted(struct execution *x, struct cgroup *cg) {
  int *ends[] = { x->out, x->err, x->fail, x->wt };
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
    for (int j = 0; j < 2; j++) if (ends[i][j] >= 0) close(ends[i][j]);
  if (x->sfd >= 0) close(x->sfd);
  cgroup_destroy(cg);
}

int exec_run(const struct opts *o, const struct container *c, struct cgroup *made, struct served *sv, struct exec_result *r, struct failure *f, int64_t *timing) {
  memset(r, 0, sizeof *r);
  static struct cgroup cg;
  /* made by the caller: one-shot before the container was up, served ahead of the request */
  if (made) cg = *made;
  else memset(&cg, 0, sizeof cg);
  struct execution x;
  memset(&x, 0, sizeof x);
  x.pidfd = x.sfd = -1;
  if (pre.sent) {
    memcpy(x.out, pre.out, sizeof x.out); memcpy(x.err, pre.err, sizeof x.err);
    memcpy(x.fail, pre.fail, sizeof x.fail); memcpy(x.wt, pre.wt, sizeof x.wt);
  } else if (pipe2(x.out, O_CLOEXEC) || pipe2(x.err, O_CLOEXEC) || pipe2(x.fail, O_CLOEXEC) || pipe2(x.wt, O_CLOEXEC)) {
    fail_set(f, "pipe", errno); cgroup_destroy(&cg); return -1;
  }
  /* SIGTERM, SIGINT or SIGHUP cancel the execution: everything is killed and
   * cleaned up as on any other end, and the status says "cancelled". */
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM); sigaddset(&term, SIGINT); sigaddset(&term, SIGHUP);
  sigprocmask(SIG_BLOCK, &term, &old);
  x.sfd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
  x.t0 = now_us();
  if (exec_start(c, &cg, sv, &x, f) < 0) { exec_unstarted(&x, &cg); return -1; }
  close(x.out[1]); close(x.err[1]); close(x.fail[1]); if (x.wt[1] >= 0) close(x.wt[1]);
  fcntl(x.out[0], F_SETFL, O_NONBLOCK);
  fcntl(x.err[0], F_SETFL, O_NONBLOCK);

  exec_drain(o, c, &cg, sv, &x, r, f, timing);

  if (x.fail[0] >= 0) { /* init or P may have reported before closing */
    ssize_t k = read(x.fail[0], (char *)&x.pf + x.pfgot, sizeof x.pf - (size_t)x.pfgot);
    if (k > 0) x.pfgot += (int)k;
    close(x.fail[0]);
  }
  if (x.wt[0] >= 0) close(x.wt[0]);
  if (x.pidfd >= 0) close(x.pidfd);
  if (timing) timing[1] = now_us() - x.t0;
  /* one-shot: the container has served its purpose. Kill it now so that the
   * kernel tears its namespaces down while we read the accounting and remove
   * the cgroups; container_destroy() reaps it. */
  if (o->mode == MODE_ONESHOT && c->init > 0) kill(c->init, SIGKILL);

  if (x.sfd >= 0) close(x.sfd);
  if (x.cancelled) { fail_set(f, "cancelled", ECANCELED); x.failed = true; }
  else if (x.pfgot == (int)sizeof x.pf) { *f = x.pf; x.failed = true; }
  if (!x.failed && !x.done) { fail_set(f, "exec-helper", EIO); x.failed = true; }
  if (x.failed) { cgroup_destroy(&cg); return -1; }
  exec_account(o, &cg, sv, &x, r);
  return 0;
}
