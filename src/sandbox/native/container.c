/* The container: a process that is pid 1 of fresh user, mount, pid, net,
 * ipc and uts namespaces, with the overlay root set up. Killing it kills
 * every process in the container, since they all live in its pid namespace.
 *
 * Two processes run this file's code:
 *   the launcher  container_start (clone, maps), container_cgroups (the
 *                 container's own cgroup, while init builds; the level
 *                 below it, container_next_cgroup), container_wait
 *                 (init's report), container_destroy
 *   init          container_build: the container's build, one step a line,
 *                 then its report, then init_main (init.c) for good
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sources are opened here, inside the new mount namespace: a mount made from an
 * fd of the host's namespace is refused (overlay: "failed to clone lowerpath").
 * They are opened as the sandbox identity, which must be able to read them. */
static int open_sources(const struct opts *o, int *rootfs_fd, int *bind_fds, struct failure *f) {
  *rootfs_fd = open(o->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*rootfs_fd < 0) { fail_set(f, STEP_OPEN_ROOTFS, errno); return -1; }
  for (int i = 0; i < o->nbinds; i++) {
    bind_fds[i] = open(o->binds[i].src, O_PATH | O_CLOEXEC);
    if (bind_fds[i] < 0 && !(o->binds[i].try_only && errno == ENOENT)) { fail_set(f, STEP_OPEN_BIND_SOURCE, errno); return -1; }
  }
  return 0;
}

static void close_sources(const struct opts *o, int rootfs_fd, const int *bind_fds) {
  close(rootfs_fd);
  close_fds(bind_fds, o->nbinds);
}

/* Die with the launcher (set after the identity change, which clears it).
 * Not dumpable: init's /proc entries (fd, cwd, root, environ, mem) belong to
 * no one a program can be, whatever capabilities it has or lacks; the
 * programs it forks become dumpable again at their exec. */
static int tie_to_launcher(struct failure *f) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(f, STEP_PDEATHSIG, errno); return -1; }
  if (prctl(PR_SET_DUMPABLE, 0) < 0) { fail_set(f, STEP_DUMPABLE, errno); return -1; }
  return 0;
}

/* A refused sethostname does not stop the build: the UTS namespace is the
 * container's own all the same, holding a copy of the outer hostname, which
 * its programs can read (and nothing else: SECURITY.md). Refused means a
 * policy said no: EPERM or ENOSYS from a seccomp filter (podman's default
 * profile; Docker's without the call), EACCES from an LSM. Any other errno
 * (a name too long) is a fault. The report says so (DEGRADED_HOSTNAME). */
static int set_hostname(const struct opts *o, struct failure *f) {
  if (sethostname(o->hostname, strlen(o->hostname)) == 0) return 0;
  if (errno == EPERM || errno == ENOSYS || errno == EACCES) { f->degraded |= DEGRADED_HOSTNAME; return 0; }
  fail_set(f, STEP_SETHOSTNAME, errno);
  return -1;
}

/* Init's own fds from here on: stdio on /dev/null (the caller's pipes must
 * see EOF when the launcher exits, and no program forked from here holds
 * them), the control socket at fd 3 and the report pipe at fd 4 until it is
 * written; nothing else. */
static int own_fds(struct init *in, int *rep) {
  int null = open("/dev/null", O_RDWR);
  if (null < 0) return -1;
  if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) return -1;
  if (null > 2) close(null);
  int ctl = fcntl(in->ctl, F_DUPFD_CLOEXEC, 5), report = fcntl(*rep, F_DUPFD_CLOEXEC, 5);
  if (ctl < 0 || report < 0 || dup3(ctl, 3, O_CLOEXEC) < 0 || dup3(report, 4, O_CLOEXEC) < 0) return -1;
  in->ctl = 3;
  *rep = 4;
  return syscall(SYS_close_range, 5, ~0U, 0) < 0 ? -1 : 0;
}

/* The container's first process, pid 1 of its namespaces: waits on GO for
 * its maps, builds the container, reports on REP (a failure; STEP_NONE: built),
 * then becomes its init, taking the launcher's messages on CTL. */
static void container_build(const struct opts *o, int go, int rep, int ctl, bool priv) {
  int rootfs_fd = -1, bind_fds[MAX_BINDS];
  struct failure f = { STEP_NONE };
  struct netns_job net;
  struct init in = { .o = o, .ctl = ctl, .priv = priv };
  char c;
  signal(SIGPIPE, SIG_IGN);
  if (read(go, &c, 1) != 1) _exit(1); /* the launcher is gone */
  close(go);
  if (userns_become(o->uid, o->gid, priv, &f) < 0) goto fail;       /* the inside identity (userns.c) */
  if (userns_set_limits(o->zygote_host, o->bind_proc, &f) < 0) goto fail;                       /* the namespace's per-user limits (userns.c) */
  if (tie_to_launcher(&f) < 0) goto fail;                          /* die with the launcher; not dumpable */
  if (netns_start(&net, &f) < 0) goto fail;                        /* the network namespace, on a thread (net.c) */
  if (open_sources(o, &rootfs_fd, bind_fds, &f) < 0) goto fail;    /* the image and the bind sources */
  if (set_hostname(o, &f) < 0) goto fail;                          /* the hostname */
  if (mounts_setup(o, rootfs_fd, bind_fds, &f) < 0) goto fail;     /* the mounts; pivot_root (mounts.c) */
  if (netns_enter(&net, &f) < 0) goto fail;                        /* into the network namespace (net.c) */
  if (caps_drop_bounding(&f) < 0) goto fail;                       /* an empty bounding set for every program (caps.c) */
  close_sources(o, rootfs_fd, bind_fds);
  if (own_fds(&in, &rep) < 0) _exit(1);                            /* stdio on /dev/null; no other fd */
  if (mounts_detach_old(&f) < 0) goto fail;                        /* the host's old root detached (mounts.c) */
  init_take_waiting(&in);                                          /* what the launcher sent meanwhile (init.c) */
  if (write_all(rep, &f, sizeof f) < 0) _exit(1);                  /* built: the report */
  close(rep);
  init_main(&in);
fail:
  write_all(rep, &f, sizeof f);
  _exit(1);
}

int container_start(const struct opts *o, struct container *c, struct failure *f) {
  bool priv = userns_host_root(); /* a container's root mapped to another uid maps sandboxes as a user does (userns.c) */
  uid_t out_uid = priv ? o->sandbox_uid : geteuid();
  gid_t out_gid = priv ? o->sandbox_gid : getegid();
  int go[2], rep[2], ctl[2];
  memset(c, 0, sizeof *c);
  c->ctl = c->report = -1;
  c->ahead.sock = c->ahead.wait = c->ahead.pidfd = -1;
  c->zygote.sock = c->zygote.wait = -1;
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) { fail_set(f, STEP_PIPE, errno); return -1; }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) { fail_set(f, STEP_SOCKETPAIR, errno); return -1; }
  /* as root, the user namespace is made owned by the sandbox uid (userns.c) */
  struct userns_owner saved;
  if (priv && userns_owner_become(out_uid, out_gid, &saved, f) < 0) return -1;
  /* the network namespace is made by init itself, in parallel (net.c) */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
  int clone_errno = errno;
  if (pid != 0 && priv && userns_owner_restore(&saved, f) < 0) {
    if (pid > 0) { kill(pid, SIGKILL); waitpid(pid, NULL, 0); }
    return -1;
  }
  if (pid < 0) { fail_set(f, STEP_CLONE_NAMESPACES, clone_errno); return -1; }
  if (pid == 0) {
    close(go[1]);
    close(rep[0]);
    close(ctl[0]);
    container_build(o, go[0], rep[1], ctl[1], priv);
    _exit(1);
  }
  close(go[0]);
  close(rep[1]);
  close(ctl[1]);
  c->init = pid;
  c->ctl = ctl[0];
  c->report = rep[0];
  int rc = userns_write_maps(pid, o->uid, out_uid, o->gid, out_gid, priv, f);
  if (rc == 0 && write_all(go[1], "g", 1) < 0) { fail_set(f, STEP_CONTAINER_START, errno); rc = -1; }
  close(go[1]);
  return rc;
}

int container_cgroups(const struct opts *o, struct container *c, struct failure *f) {
  if (!o->ncgroups) return 0;
  /* Most containers run one execution: it runs in the container's own cgroup,
   * one level instead of two (in each v1 hierarchy). A zygote's children run
   * beside it, below the container's own, from the start. */
  c->flat = !o->zygote_host;
  c->split = !c->flat;
  if (cgroup_make_own(&c->own, o->cgroups, o->ncgroups, c->flat, f) < 0) return -1;
  if (c->flat) { c->seq = 1; return 0; }
  return container_next_cgroup(c, f);
}

int container_next_cgroup(struct container *c, struct failure *f) {
  if (!c->own.n || c->flat || c->next.n) return 0;
  /* the second execution: the first has ended and left the container's cgroup empty */
  if (!c->split && cgroup_split_own(&c->own, f) < 0) return -1;
  c->split = true;
  char name[32];
  snprintf(name, sizeof name, "e%u", ++c->seq);
  if (cgroup_make_in(&c->next, &c->own, name, f) == 0) return 0;
  cgroup_destroy(&c->next);
  return -1;
}

int container_wait(struct container *c, struct failure *f) {
  struct failure got;
  int n = read_full(c->report, &got, sizeof got);
  int e = errno;
  close(c->report);
  c->report = -1;
  if (n == (int)sizeof got && got.step != STEP_NONE) { *f = got; return -1; }
  if (n != (int)sizeof got) { fail_set(f, STEP_CONTAINER_INIT, n < 0 ? e : EIO); return -1; }
  c->degraded = got.degraded;
  return 0;
}

void container_drop_ahead(struct container *c) {
  int *fds[] = { &c->ahead.sock, &c->ahead.wait, &c->ahead.pidfd };
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) if (*fds[i] >= 0) { close(*fds[i]); *fds[i] = -1; }
  c->ahead.asked = c->ahead.active = c->ahead.zygote = false;
}

void container_destroy(struct container *c) {
  container_drop_ahead(c);
  if (c->report >= 0) { close(c->report); c->report = -1; }
  if (c->ctl >= 0) { close(c->ctl); c->ctl = -1; }
  if (c->init > 0) kill(c->init, SIGKILL);
  /* init stays outside the cgroups: they are removed while it exits */
  if (c->next.n) cgroup_destroy(&c->next);
  if (c->zygote.sock >= 0) { close(c->zygote.sock); c->zygote.sock = -1; }
  if (c->zygote.wait >= 0) { close(c->zygote.wait); c->zygote.wait = -1; }
  if (c->zygote.cg.n) cgroup_destroy(&c->zygote.cg);
  if (c->own.n) cgroup_destroy(&c->own);
  if (c->init > 0) { waitpid(c->init, NULL, 0); c->init = 0; }
}
