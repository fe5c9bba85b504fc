/* warren-launch: builds one rootless container and runs programs in it.
 * Usage and options: docs/launcher.md.
 *
 * One path: a one-shot run (`warren-launch [OPTIONS] -- PROGRAM`) is a held
 * container with one request, its command line's exec options and program;
 * `--hold` serves requests on stdin (serve.c). Either way, in this order:
 *
 *   the container, the launcher:
 *     1. clone init: new user, mount, pid, ipc, uts namespaces;
 *        as root, the user namespace owned by the sandbox uid      container.c, userns.c
 *     2. uid/gid maps: one inside id to one unprivileged host id    userns.c
 *   init builds it (container_build, one step a line there):
 *     3. the inside identity; the namespace's per-user limits;
 *        die with the launcher; not dumpable                        container.c, userns.c
 *     4. a network namespace, made on a thread: loopback up,
 *        no route out                                               net.c
 *     5. hostname; private mounts; scratch tmpfs; overlay root; ro
 *        binds; minimal /dev, private /dev/shm, masked /proc, /tmp,
 *        work dir; pivot_root                                       mounts.c
 *     6. into the network namespace; an empty bounding set; the
 *        host's old root detached; what the launcher sent meanwhile
 *        carried out (step 7: the program ahead forked); the report
 *        to the launcher                                            container.c, init.c
 *   meanwhile, the launcher:
 *     7. the container's own cgroup (with --cgroup), which is the
 *        first execution's (a zygote host's: the first's below it);
 *        a program forked ahead into it asked of init               container.c, request.c
 *     8. one-shot: its request, steps 9 and 10                      request.c
 *   each request, the launcher (request.c):
 *     9. its limits into the execution's cgroup, and the
 *        container's cgroup bounded by them (a second execution:
 *        the level below the container's own made first)            cgroup.c
 *    10. handed to the program forked ahead into that cgroup; else
 *        init forks the program                                     init.c
 *   the program (program_main, one step a line there):
 *    11. enter the cgroup; new cgroup and IPC namespaces; new
 *        session; the inside identity                               program.c, cgroup.c, userns.c
 *    12. (forked ahead: its request arrives); stdio; close every
 *        other fd; working directory, inside the root only          program.c, paths.c
 *    13. rlimits; drop every capability, no_new_privs; seccomp      rlimits.c, caps.c, seccomp.c
 *    14. exec                                                       execve.c
 *   the launcher again (request.c):
 *    15. drain the output; enforce wall, CPU and output limits;
 *        read the accounting; kill what is left; answer; remove
 *        the execution's cgroup                                     request.c, status.c
 *    16. hold: the next execution's cgroup, a program forked ahead
 *        into it (not after the first: most have no second), the
 *        next request; one-shot: the end
 *   the end: kill init (so everything inside), remove the cgroups   container.c
 *
 * Every step that can fail is named in steps.h.
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exit_code_of(const struct exec_result *r) {
  if (!strcmp(r->status, "time_limit_exceeded")) return 124;
  if (r->signal) return 128 + r->signal;
  return r->exit_code;
}

static int fail_exit(const struct opts *o, const struct failure *f) {
  const char *hint = status_hint(f);
  fprintf(stderr, "warren-launch: %s: %s%s%s\n", step_name(f->step), errno_text(f->err), hint ? ": " : "", hint ? hint : "");
  status_failure(o->status_fd, f, NULL);
  return 125;
}

/* The one-shot's request: the command line's exec options, "--" and the
 * program (opts.c kept them), as a served request's arguments would be. */
static int oneshot_request(const struct opts *o, struct request *q, char **buf, struct failure *f) {
  char err[512];
  size_t n = 0;
  for (int i = 0; i < o->nrequest; i++) n += strlen(o->request[i]) + 1;
  if (n > MAX_REQUEST_ARGS_BYTES) { fail_set(f, STEP_REQUEST_TOO_LARGE, E2BIG); return -1; }
  if (!(*buf = malloc(n ? n : 1))) { fail_set(f, STEP_REQUEST_MEMFD, ENOMEM); return -1; }
  for (size_t i = 0, at = 0; i < (size_t)o->nrequest; i++) {
    size_t len = strlen(o->request[i]) + 1;
    memcpy(*buf + at, o->request[i], len);
    at += len;
  }
  if (opts_parse_exec(&q->eo, o, o->nrequest, (char **)o->request, err, sizeof err) < 0) { fail_set(f, STEP_OPTIONS, EINVAL); return -1; }
  q->args = *buf;
  q->arglen = (uint32_t)n;
  /* the program's stdin is the launcher's own */
  if (fcntl(0, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != 0) { fail_set(f, STEP_STDIN, errno); return -1; }
  q->in = 0;
  return 0;
}

/* One-shot: a held container with one request, the command line's (SIDE:
 * what failed while init built the container, if anything). It is handed
 * over while init builds the container, as a served request is: to the
 * program init forks ahead (with cgroups), else to init; init carries it out
 * once the container is built. Its output goes to the launcher's own stdout
 * and stderr, its status to --status-fd, and its exit code is the
 * launcher's. */
static int oneshot(const struct opts *o, struct container *c, struct failure *side, int64_t t0) {
  struct failure f = { STEP_NONE };
  struct request q;
  struct exec_result r;
  char *args = NULL;
  int64_t t[3] = { 0, 0, 0 };
  request_init(&q);
  if (side->step == STEP_NONE && oneshot_request(o, &q, &args, side) == 0 && request_prepare(c, &q, side) == 0) request_start(c, &q, side);
  /* init's failure is the cause, whatever failed meanwhile (it may have
   * failed because init was gone) */
  int rc = container_wait(c, &f);
  if (rc == 0 && side->step != STEP_NONE) { f = *side; rc = -1; }
  if (rc == 0) request_take_ahead(c);
  if (rc == 0 && q.ahead && !c->ahead.active) rc = request_restart(c, &q, &f); /* the program ahead was not forked */
  t[0] = now_us() - t0;
  if (rc == 0) rc = request_finish(c, &q, &(struct sink){ -1 }, true, &r, &f);
  t[1] = q.exec_us;
  request_end(c, &q);
  int64_t t1 = now_us();
  container_destroy(c);
  t[2] = now_us() - t1;
  free(args);
  if (rc < 0) return fail_exit(o, &f);
  r.degraded = c->degraded;
  status_result(o->status_fd, &r, o->timings ? t : NULL, 3);
  return exit_code_of(&r);
}

/* The launcher and its container, init and all it forks, are the first the
 * kernel's OOM killer takes when memory runs out above the container's own
 * limit (a worker's container or pod bounding Warren and its sandboxes
 * together; the host's memory): a job's processes, never Warren's server.
 * Set here, while the launcher still owns its /proc entries (a process whose
 * credentials changed is no longer dumpable, and its entries are root's), and
 * inherited by every process it makes; a launcher holds one container, so an
 * OOM kill of it ends that job alone. Raising one's own oom_score_adj needs no
 * privilege. Best effort: a /proc that refuses it changes no limit. */
static void oom_victims_first(void) {
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, "1000", 4) < 0) { /* as it was: nothing to undo */ }
  close(fd);
}

int main(int argc, char **argv) {
  struct opts o;
  char err[512];
  signal(SIGPIPE, SIG_IGN);
  oom_victims_first();
  if (opts_parse(&o, argc, argv, err, sizeof err) < 0) {
    fprintf(stderr, "warren-launch: %s\n", err);
    int sfd = -1; /* the option may come after the bad one: look for it alone */
    for (int i = 1; i + 1 < argc && strcmp(argv[i], "--"); i++)
      if (!strcmp(argv[i], "--status-fd")) sfd = atoi(argv[i + 1]);
    struct failure of;
    fail_set(&of, STEP_OPTIONS, EINVAL);
    status_failure(sfd, &of, err);
    return 125;
  }
  /* SIGTERM, SIGINT and SIGHUP end a run cleanly (a one-shot's execution
   * cancelled, a held container ended, the cgroups removed): held until they
   * are read, even while the container is being built */
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM); sigaddset(&term, SIGINT); sigaddset(&term, SIGHUP);
  sigaddset(&term, SIGUSR1); /* cancels the execution running, and only it (never the launcher) */
  relay_sigaddset(&term); /* the caller's signals for a streamed execution's program (request.c); never the launcher's end */
  sigprocmask(SIG_BLOCK, &term, NULL);
  struct failure f = { STEP_NONE }, side = { STEP_NONE };
  struct container c;
  int64_t t0 = now_us();
  if (container_start(&o, &c, &f) < 0) { container_destroy(&c); return fail_exit(&o, &f); }
  if (container_cgroups(&o, &c, &side) == 0) request_ask_ahead(&c);
  if (o.mode != MODE_HOLD) return oneshot(&o, &c, &side, t0);
  int rc = container_wait(&c, &f);
  if (rc == 0 && side.step != STEP_NONE) { f = side; rc = -1; } /* never serve an execution outside the container's own cgroup */
  if (rc < 0) { container_destroy(&c); return fail_exit(&o, &f); }
  request_take_ahead(&c);
  return serve(&o, &c);
}
