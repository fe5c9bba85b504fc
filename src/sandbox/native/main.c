/* warren-launch: builds one rootless container and runs programs in it.
 * Usage and options: docs/launcher.md.
 *
 * The order of set-up, one step a line:
 *   container (container.c, as pid 1 of new namespaces):
 *     1. clone: new user, mount, pid, net, ipc, uts namespaces;
 *        as root, the user namespace owned by the sandbox uid      container.c, userns.c
 *     2. uid/gid maps: one inside id to one unprivileged host id    userns.c
 *     3. the inside identity; the namespace's per-user limits;
 *        not dumpable; die with the launcher                        userns.c, container.c
 *     4. hostname; loopback up, no route out                        net.c
 *     5. private mounts; scratch tmpfs; overlay root; ro binds;
 *        minimal /dev, private /dev/shm, masked /proc, /tmp, work
 *        dir; pivot_root                                            mounts.c
 *     6. reap orphans until killed; hold: fork served programs,
 *        write the job's files                                      container.c, serve.c
 *   hold: the container's own cgroup, bounding all its executions    cgroup.c, serve.c
 *   each program (exec.c):
 *     1. a fresh cgroup with memory (no swap), pids, cpu limits     cgroup.c
 *        (one-shot: made while the container's init does 2-5;
 *        hold: below the container's cgroup, made ahead)            main.c, serve.c
 *     2. the container's init forks it                              container.c, serve.c
 *     3. enter the cgroup; new cgroup and IPC namespaces; new
 *        session; the inside identity                               cgroup.c, exec.c, userns.c
 *     4. close every fd but stdio; working directory, resolved
 *        inside the root only                                       exec.c, paths.c
 *     5. rlimits                                                    rlimits.c
 *     6. drop every capability; no_new_privs                       caps.c
 *     7. seccomp filter                                             seccomp.c
 *     8. exec; the launcher drains output, enforces wall, CPU and
 *        output limits, reads accounting, kills what is left,
 *        removes the cgroup                                         exec.c
 */
#include "launcher.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int exit_code_of(const struct exec_result *r) {
  if (!strcmp(r->status, "time_limit_exceeded")) return 124;
  if (r->signal) return 128 + r->signal;
  return r->exit_code;
}

static int fail_exit(const struct opts *o, const struct failure *f) {
  fprintf(stderr, "warren-launch: %s: %s\n", f->step, strerror(f->err));
  status_failure(o->status_fd, f, NULL);
  return 125;
}

/* one-shot: the execution's cgroups are made, and its pipes and cgroup files
 * handed to init, while init builds the container */
static struct cgroup cg;
struct oneshot_prep { const struct opts *o; const struct container *c; };
static int oneshot_prepare(void *arg, struct failure *f) {
  const struct oneshot_prep *p = arg;
  if (p->o->ncgroups && cgroup_create(&cg, p->o, f) < 0) { cgroup_destroy(&cg); return -1; }
  return exec_handover(p->o, p->c, &cg, f);
}

int main(int argc, char **argv) {
  struct opts o;
  char err[512];
  signal(SIGPIPE, SIG_IGN);
  if (opts_parse(&o, argc, argv, err, sizeof err) < 0) {
    fprintf(stderr, "warren-launch: %s\n", err);
    int sfd = -1; /* the option may come after the bad one: look for it alone */
    for (int i = 1; i + 1 < argc && strcmp(argv[i], "--"); i++)
      if (!strcmp(argv[i], "--status-fd")) sfd = atoi(argv[i + 1]);
    struct failure of;
    fail_set(&of, "options", EINVAL);
    status_failure(sfd, &of, err);
    return 125;
  }
  struct failure f = { "", 0 };
  struct container c = { 0, -1 };
  int64_t t[4] = { 0, 0, 0, 0 };
  int64_t t0 = now_us();
  if (container_create(&o, &c, o.mode == MODE_ONESHOT ? oneshot_prepare : NULL, &(struct oneshot_prep){ &o, &c }, &f) < 0) {
    cgroup_destroy(&cg);
    return fail_exit(&o, &f);
  }
  t[0] = now_us() - t0;
  if (o.mode == MODE_HOLD) return serve(&o, &c);

  struct exec_result r;
  int rc = exec_run(&o, &c, cg.n ? &cg : NULL, NULL, &r, &f, t);
  int64_t t1 = now_us();
  container_destroy(&c);
  t[2] = now_us() - t1;
  if (rc < 0) return fail_exit(&o, &f);
  status_result(o.status_fd, &r, o.timings ? t : NULL, 3);
  return exit_code_of(&r);
}
