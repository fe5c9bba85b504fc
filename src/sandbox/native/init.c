/* The container's init: pid 1 of the container's pid namespace, once
 * container.c has built the container. It never execs and runs nothing of
 * the sandbox's. It reaps every orphan and carries out the launcher's
 * messages on its control socket (enum msg, launcher.h):
 *
 *   MSG_FORK        fork a request's program (program.c) into its execution's
 *                   cgroup; its pidfd back on the socket (MSG_FORKED), its pid
 *                   and then its end on the request's wait pipe
 *   MSG_FORK_AHEAD  fork a program ahead of its request into the next
 *                   execution's cgroup, waiting on the request socket the
 *                   launcher sent; its pidfd back (MSG_AHEAD_READY)
 *   MSG_UNPACK      write the job's files into the work dir itself, with the
 *                   sandbox identity it shares with every program
 *
 * EOF on the socket means the launcher is gone: so is the container (every
 * process in it dies with init). Nothing inside can signal init: pid 1 of a
 * pid namespace gets no signal it has no handler for, and it has none.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every child that ended: its status and rusage to its wait pipe, if it was a program of a request */
static void init_reap(struct init *in) {
  struct waited w;
  memset(&w, 0, sizeof w);
  while (wait_into(-1, WNOHANG, &w) > 0)
    for (int i = 0; i < MAX_RUNNING; i++)
      if (in->running[i].pid == w.pid) { write_all(in->running[i].wt, &w, sizeof w); close(in->running[i].wt); in->running[i].pid = 0; }
}

/* After forking P: its pidfd to the launcher on the control socket (a message
 * of TYPE, after FD when FD >= 0; always sent, the launcher waits for it),
 * then its pid on the wait pipe WT. */
static void report_forked(const struct init *in, enum msg type, int fd, int wt, pid_t p) {
  int pfd = (int)syscall(SYS_pidfd_open, p, 0);
  int fds[2], n = 0;
  if (fd >= 0) fds[n++] = fd;
  if (pfd >= 0) fds[n++] = pfd;
  send_msg(in->ctl, type, fds, n);
  if (pfd >= 0) close(pfd);
  struct waited w;
  memset(&w, 0, sizeof w);
  w.pid = p;
  write_all(wt, &w, sizeof w);
}

/* MSG_FORK (fds: enum FD_*). Init parses the request itself, on top of the
 * container's options. Returns the wait pipe, kept until P is reaped, or -1
 * (the failure written to the request's failure pipe). */
static int init_fork(struct init *in, int *fds, int n, pid_t *pid) {
  int failfd = n > FD_FAIL ? fds[FD_FAIL] : -1, wt = n > FD_WAIT ? fds[FD_WAIT] : -1;
  struct failure f = { STEP_NONE };
  struct program p = { .sock = -1, .priv = in->priv };
  char *args = NULL;
  if (n < FD_CGROUPS) { fail_set(&f, STEP_SERVED_REQUEST, EINVAL); goto fail; }
  if (opts_read_request(fds[FD_REQUEST], in->o, &p.request, &args, &f) < 0) goto fail;
  if (p.request.unpack) { fail_set(&f, STEP_SERVED_REQUEST, EINVAL); goto fail; } /* init's own work (MSG_UNPACK), never a program's */
  p.o = &p.request;
  p.in = fds[FD_STDIN];
  p.out = fds[FD_STDOUT];
  p.err = fds[FD_STDERR];
  p.fail = failfd;
  cgroup_from_fds(&p.cg, fds + FD_CGROUPS, n - FD_CGROUPS);
  pid_t c = cgroup_fork(&p.cg, &in->clone_into_refused);
  if (c == 0) { close(in->ctl); close(wt); program_main(&p); }
  if (c < 0) { fail_set(&f, STEP_FORK, errno); goto fail; }
  report_forked(in, MSG_FORKED, -1, wt, c);
  for (int i = 0; i < n; i++) if (i != FD_WAIT) close(fds[i]);
  free(args);
  *pid = c;
  return wt;
fail:
  if (failfd >= 0) write_all(failfd, &f, sizeof f);
  close_fds(fds, n); /* the launcher sees the failure, then EOF */
  free(args);
  return -1;
}

/* MSG_FORK_AHEAD (fds: the wait pipe, the request socket, then the next
 * execution's cgroup files): a program forked into that cgroup, set up as
 * far as its request allows, waiting for it on the socket (program.c). Its
 * pidfd goes back as MSG_AHEAD_READY (MSG_AHEAD_FAILED when it could not be
 * forked); its pid is read from the wait pipe when its request comes, as for
 * any other program. Returns the wait pipe, or -1. */
static int init_fork_ahead(struct init *in, int *fds, int n, pid_t *pid) {
  int wt = n > 1 ? fds[0] : -1, sock = n > 1 ? fds[1] : -1;
  struct program p = { .o = in->o, .sock = -1, .in = -1, .out = -1, .err = -1, .fail = -1, .priv = in->priv };
  if (n > 2) cgroup_from_fds(&p.cg, fds + 2, n - 2);
  pid_t c = sock < 0 ? -1 : cgroup_fork(&p.cg, &in->clone_into_refused);
  if (c == 0) { close(in->ctl); close(wt); p.sock = sock; program_main(&p); }
  if (c < 0) {
    close_fds(fds, n);
    send_msg(in->ctl, MSG_AHEAD_FAILED, NULL, 0);
    return -1;
  }
  close_fds(fds + 1, n - 1);
  report_forked(in, MSG_AHEAD_READY, -1, wt, c);
  *pid = c;
  return wt;
}

/* MSG_UNPACK (fds: the stream, the outcome pipe): the job's files written
 * into the work dir, then the outcome (a failure; its step STEP_NONE when
 * all went well). */
static void init_unpack(const struct init *in, int *fds, int n) {
  struct failure f = { STEP_NONE };
  if (n < 2) fail_set(&f, STEP_SERVED_REQUEST, EINVAL);
  else {
    /* earlier programs wrote below the root: the work dir is reached through no link */
    int dir = open_in_root(in->o->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, true);
    if (dir < 0 || unpack_files(fds[0], dir) < 0) fail_set(&f, STEP_UNPACK, errno);
    if (dir >= 0) close(dir);
    write_all(fds[1], &f, sizeof f);
  }
  close_fds(fds, n);
}

/* One message of the launcher's, carried out */
static void init_handle(struct init *in, enum msg type, int *fds, int n) {
  if (type == MSG_UNPACK) { init_unpack(in, fds, n); return; }
  if (type != MSG_FORK && type != MSG_FORK_AHEAD) { close_fds(fds, n); return; }
  int slot = -1;
  for (int i = 0; i < MAX_RUNNING && slot < 0; i++) if (!in->running[i].pid) slot = i;
  if (slot < 0) { /* too many at once: the launcher sees its wait pipe close with no pid, or no program ahead */
    close_fds(fds, n);
    if (type == MSG_FORK_AHEAD) send_msg(in->ctl, MSG_AHEAD_FAILED, NULL, 0);
    return;
  }
  pid_t pid = 0;
  int wt = type == MSG_FORK_AHEAD ? init_fork_ahead(in, fds, n, &pid) : init_fork(in, fds, n, &pid);
  if (wt >= 0) { in->running[slot].pid = pid; in->running[slot].wt = wt; }
}

void init_take_waiting(struct init *in) {
  for (;;) {
    struct pollfd p = { in->ctl, POLLIN, 0 };
    if (poll(&p, 1, 0) != 1) return;
    int fds[16];
    enum msg type;
    int n = recv_msg(in->ctl, &type, fds, 16);
    if (n < 0) return; /* the launcher is gone: init_main sees it too */
    init_handle(in, type, fds, n);
  }
}

void init_main(struct init *in) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL); /* pid 1 ignores what it has no handler for: nothing inside can stop it */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) _exit(1);
  for (;;) {
    init_reap(in);
    struct pollfd p[2] = { { sfd, POLLIN, 0 }, { in->ctl, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0 && errno != EINTR) _exit(1);
    if (p[0].revents) { struct signalfd_siginfo si; while (read(sfd, &si, sizeof si) > 0) {} }
    if (!p[1].revents) continue;
    int fds[16];
    enum msg type;
    int n = recv_msg(in->ctl, &type, fds, 16);
    if (n < 0) _exit(0); /* the launcher is gone: so is the container */
    init_handle(in, type, fds, n);
  }
}
