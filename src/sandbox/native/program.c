/* One program's process, from its fork by the container's init to its execve.
 *
 *   the launcher (host namespaces: cgroups, pipes, limits, accounting; request.c)
 *     └─ the container's init: forks the program, reports its pid and end (init.c)
 *          └─ the program: this file
 *
 * Everything here runs in the container's namespaces, before untrusted code.
 * A failure comes back as {step, errno} on the close-on-exec failure pipe: a
 * program that did not start never gets an exit code. A program forked ahead
 * of its request (init.c) has no failure pipe until its request comes: a
 * failure before then ends it quietly, and the launcher, finding it gone, has
 * init fork the program afresh.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

/* Its execution's cgroup: entered through the file handed over (v1 tasks; v2
 * cgroup.procs unless it was born in it, CLONE_INTO_CGROUP). Then its files
 * are closed: a directory of the host's must not be open while any path is
 * resolved (paths.c). */
static int enter_cgroup(struct program *p, struct failure *f) {
  int rc = p->cg.n ? cgroup_enter(&p->cg) : 0;
  if (rc < 0) fail_set(f, STEP_CGROUP_ENTER, errno);
  cgroup_close_fds(&p->cg);
  return rc;
}

/* A cgroup namespace rooted at its own cgroup: the host's cgroup paths stay
 * hidden. An IPC namespace of its own: System V shared memory, message
 * queues, semaphores and POSIX message queues die with the execution (the
 * kernel frees them with the namespace) instead of piling up in the
 * container, charged to no live execution's memory limit. */
static int own_namespaces(struct failure *f) {
  if (unshare(CLONE_NEWCGROUP) < 0) { fail_set(f, STEP_CGROUP_NAMESPACE, errno); return -1; }
  if (unshare(CLONE_NEWIPC) < 0) { fail_set(f, STEP_IPC_NAMESPACE, errno); return -1; }
  return 0;
}

/* A new session with no controlling terminal: no TIOCSTI into the caller's tty (CVE-2017-5226) */
static int own_session(struct failure *f) {
  if (setsid() < 0) { fail_set(f, STEP_SETSID, errno); return -1; }
  return 0;
}

/* Die with init (set after the identity change, which clears it) */
static int die_with_init(struct failure *f) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(f, STEP_PDEATHSIG, errno); return -1; }
  return 0;
}

/* Forked ahead: its request (MSG_RUN) arrives on its socket, with the fds it
 * is to use, and is parsed on top of the container's options as init parses
 * those of the programs it forks for a request. */
static int await_request(struct program *p, struct failure *f) {
  int fds[RUN_FDS];
  enum msg type;
  int n = recv_msg(p->sock, &type, fds, RUN_FDS);
  if (n < 0) _exit(0); /* the container is ending */
  if (type != MSG_RUN || n != RUN_FDS) { close_fds(fds, n); _exit(0); }
  close(p->sock);
  p->sock = -1;
  p->out = fds[RUN_STDOUT];
  p->err = fds[RUN_STDERR];
  p->fail = fds[RUN_FAIL];
  p->in = fds[RUN_STDIN];
  char *args; /* its argv points into them until the execve */
  if (opts_read_request(fds[RUN_REQUEST], p->o, &p->request, &args, f) < 0) return -1;
  if (p->request.unpack) { fail_set(f, STEP_SERVED_REQUEST, EINVAL); return -1; } /* init's own work (MSG_UNPACK) */
  p->o = &p->request;
  return 0;
}

static int take_stdio(const struct program *p, struct failure *f) {
  if (dup2(p->in, 0) < 0) { fail_set(f, STEP_STDIN, errno); return -1; }
  if (dup2(p->out, 1) < 0 || dup2(p->err, 2) < 0) { fail_set(f, STEP_STDIO, errno); return -1; }
  return 0;
}

/* Nothing but stdio and the failure pipe stays open: no fd of init's or the
 * host's (a cgroup directory, a pipe's other end) can be reached through
 * /proc/self/fd when the working directory is resolved (paths.c) */
static int close_other_fds(const struct program *p, struct failure *f) {
  if (close_fds_except(&p->fail, 1) < 0) { fail_set(f, STEP_CLOSE_FDS, errno); return -1; }
  return 0;
}

/* The working directory: resolved inside the container's root, through no
 * /proc magic link, then checked to lie below the root (getcwd() answers
 * "(unreachable)..." or fails for a directory outside it). */
static int enter_workdir(const char *path, struct failure *f) {
  int d = open_in_root(path, O_PATH | O_DIRECTORY, false);
  if (d < 0) { fail_set(f, STEP_CHDIR, errno); return -1; }
  int rc = fchdir(d);
  int saved = errno;
  close(d);
  if (rc < 0) { fail_set(f, STEP_CHDIR, saved); return -1; }
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/') { fail_set(f, STEP_CHDIR, EXDEV); return -1; }
  return 0;
}

/* The request's environment (nothing else: it starts empty), no signal
 * blocked (init blocks all) and SIGPIPE back to its default */
static void own_environment(const struct opts *o) {
  environ = (char **)o->env;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
}

void program_main(struct program *p) {
  struct failure f = { STEP_NONE };
  if (enter_cgroup(p, &f) < 0) goto fail;                          /* its execution's cgroup */
  if (own_namespaces(&f) < 0) goto fail;                           /* cgroup and IPC namespaces */
  if (own_session(&f) < 0) goto fail;                              /* a session, no terminal */
  if (userns_become(p->o->uid, p->o->gid, p->priv, &f) < 0) goto fail; /* the sandbox identity */
  if (die_with_init(&f) < 0) goto fail;                            /* parent-death signal */
  if (p->sock >= 0 && await_request(p, &f) < 0) goto fail;         /* forked ahead: its request */
  if (take_stdio(p, &f) < 0) goto fail;                            /* stdin, stdout, stderr */
  if (close_other_fds(p, &f) < 0) goto fail;                       /* every other fd */
  if (enter_workdir(p->o->chdir, &f) < 0) goto fail;               /* the working directory */
  if (rlimits_apply(p->o, &f) < 0) goto fail;                      /* rlimits (rlimits.c) */
  if (caps_drop_all(&f) < 0) goto fail;                            /* no capability; no_new_privs (caps.c) */
  own_environment(p->o);                                           /* environment, signals */
  if (seccomp_install(p->o->zygote, &f) < 0) goto fail;                          /* the seccomp filter, last (seccomp.c) */
  execve_program(p->o->argv, p->o->workdir, &f);                   /* exec (execve.c) */
fail:
  if (p->fail >= 0) write_all(p->fail, &f, sizeof f);
  _exit(127);
}
