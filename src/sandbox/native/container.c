/* The container: a process that is pid 1 of fresh user, mount, pid, net,
 * ipc and uts namespaces, with the overlay root set up. It only reaps
 * orphans until the launcher kills it; killing it kills every process in the
 * container, since they all live in its pid namespace. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Programs init forked and has not reaped yet, with the wait pipe each one's
 * status and rusage go to (one-shot: one, pid 3, as pid 2 was the thread that
 * made the network namespace; hold: one per served request). */
#define MAX_RUNNING 16
static struct { pid_t pid; int wt; } running[MAX_RUNNING];

static void reap(void) {
  struct waited w;
  memset(&w, 0, sizeof w);
  while ((w.pid = wait4(-1, &w.status, WNOHANG, &w.ru)) > 0)
    for (int i = 0; i < MAX_RUNNING; i++)
      if (running[i].pid == w.pid) { write_all(running[i].wt, &w, sizeof w); close(running[i].wt); running[i].pid = 0; }
}

/* 'U' (a served request's --unpack or --unpack-first): init writes the job's files of
 * stream FDS[0] into the work dir itself, with the sandbox identity it shares
 * with every program, then the outcome on FDS[1] (a failure; its step empty
 * when all went well). */
static void unpack_request(const struct opts *o, const int *fds, int n) {
  struct failure f = { "", 0 };
  if (n < 2) fail_set(&f, "served-request", EINVAL);
  else {
    /* earlier programs wrote below the root: the work dir is reached through no link */
    int dir = open_in_root(o->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, true);
    if (dir < 0 || unpack_files(fds[0], dir) < 0) fail_set(&f, "unpack", errno);
    if (dir >= 0) close(dir);
    write_all(fds[1], &f, sizeof f);
  }
  for (int i = 0; i < n; i++) close(fds[i]);
}

/* CTL >= 0 (hold): served requests arrive there (serve.c); EOF on it means the
 * launcher is gone. */
static void init_loop(const struct opts *o, int ctl, bool priv) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL); /* pid 1 ignores what it has no handler for: nothing inside can stop it */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) _exit(1);
  for (;;) {
    reap();
    struct pollfd p[2] = { { sfd, POLLIN, 0 }, { ctl, POLLIN, 0 } };
    if (poll(p, ctl >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) _exit(1);
    if (p[0].revents) { struct signalfd_siginfo si; while (read(sfd, &si, sizeof si) > 0) {} }
    if (ctl >= 0 && p[1].revents) {
      int fds[16];
      char type = 0;
      int n = recv_msg(ctl, &type, fds, 16);
      if (n < 0) _exit(0); /* the launcher is gone: so is the container */
      if (type == 'U') { unpack_request(o, fds, n); continue; }
      int slot = -1;
      for (int i = 0; i < MAX_RUNNING && slot < 0; i++) if (!running[i].pid) slot = i;
      pid_t pid = 0;
      int wt = slot < 0 ? -1 : type == 'P' ? ahead_fork(o, ctl, fds, n, priv, &pid) : served_fork(o, ctl, fds, n, priv, &pid);
      if (slot < 0) {
        /* too many at once: the launcher sees its wait pipe close with no pid */
        for (int i = 0; i < n; i++) close(fds[i]);
      } else if (wt >= 0) { running[slot].pid = pid; running[slot].wt = wt; }
    }
  }
}

/* One-shot: the container's init forks the program itself, as it is already in
 * every namespace (no helper, no setns). The launcher sends the execution's
 * fds once its cgroups are made: stdout, stderr, failure and wait pipes, then
 * each cgroup's file to enter it by. The program P is set up exactly as on --join
 * (exec_program). Init answers on the wait pipe like the join helper does (P's
 * pid, then its status), and sends a pidfd of P back on CTL so that the
 * launcher can kill P alone. Returns the wait pipe, kept open until P is
 * reaped, or -1. */
static int oneshot_fork(const struct opts *o, int ctl, int rep, bool priv, int *release_out) {
  int fds[16];
  int n = recv_fds(ctl, fds, 16);
  if (n < 4) _exit(1); /* the launcher is gone or failed before the program */
  static struct cgroup cg;
  cgroup_from_fds(&cg, fds + 4, n - 4);
  int out = fds[0], err = fds[1], failfd = fds[2], wt = fds[3];
  /* P is forked before the host's tree is detached (mounts_detach_old), which
   * then overlaps P's set-up; P execs only once init has written to RELEASE */
  int release[2] = { -1, -1 };
  pid_t p = pipe2(release, O_CLOEXEC) < 0 ? -1 : cgroup_fork(&cg);
  if (p == 0) { close(ctl); close(wt); close(rep); close(release[1]); exec_program(o, &cg, out, err, failfd, release[0], priv); }
  if (p < 0) {
    struct failure ff;
    fail_set(&ff, release[0] < 0 ? "pipe" : "fork", errno);
    if (release[0] >= 0) { close(release[0]); close(release[1]); }
    write_all(failfd, &ff, sizeof ff);
    close(wt); /* the launcher sees the failure, then EOF */
    return -1;
  }
  close(release[0]);
  *release_out = release[1];
  running[0].pid = p;
  running[0].wt = wt;
  report_forked(ctl, 0, -1, wt, p);
  return wt;
}

void report_forked(int ctl, char type, int fd, int wt, pid_t p) {
  int pfd = (int)syscall(SYS_pidfd_open, p, 0);
  int fds[2], n = 0;
  if (fd >= 0) fds[n++] = fd;
  if (pfd >= 0) fds[n++] = pfd;
  send_msg(ctl, type, fds, n); /* always a message: the launcher waits for it */
  if (pfd >= 0) close(pfd);
  struct waited w;
  memset(&w, 0, sizeof w);
  w.pid = p;
  write_all(wt, &w, sizeof w);
}

/* The network namespace is the costly one to make (about 0.4 ms, more than
 * the other five together), so init makes it on a thread while it builds the
 * mounts, then enters it before anything runs in the container: the thread
 * unshares a fresh network namespace (owned by the container's user
 * namespace), brings its loopback up and opens it; init joins it with setns. */
struct netns_job { pthread_t t; int fd; struct failure f; };

static void *netns_make(void *arg) {
  struct netns_job *j = arg;
  if (unshare(CLONE_NEWNET) < 0) { fail_set(&j->f, "unshare-net", errno); return NULL; }
  if (net_loopback_up(&j->f) < 0) return NULL;
  if ((j->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) fail_set(&j->f, "open-netns", errno);
  return NULL;
}

static int netns_start(struct netns_job *j, struct failure *f) {
  pthread_attr_t a;
  j->fd = -1;
  j->f.step[0] = 0;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  int e = pthread_create(&j->t, &a, netns_make, j);
  pthread_attr_destroy(&a);
  if (e) { fail_set(f, "netns-thread", e); return -1; }
  return 0;
}

static int netns_enter(struct netns_job *j, struct failure *f) {
  int e = pthread_join(j->t, NULL);
  if (e) { fail_set(f, "netns-thread", e); return -1; }
  if (j->f.step[0]) { *f = j->f; return -1; }
  int rc = setns(j->fd, CLONE_NEWNET);
  if (rc < 0) fail_set(f, "setns-net", errno);
  close(j->fd);
  return rc;
}

/* Runs in the new namespaces as pid 1. */
/* Sources are opened here, inside the new mount namespace: a mount made from an
 * fd of the host's namespace is refused (overlay: "failed to clone lowerpath").
 * They are opened as the sandbox identity, which must be able to read them. */
static int open_sources(const struct opts *o, int *rootfs_fd, int *bind_fds, struct failure *f) {
  *rootfs_fd = open(o->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*rootfs_fd < 0) { fail_set(f, "open-rootfs", errno); return -1; }
  for (int i = 0; i < o->nbinds; i++) {
    bind_fds[i] = open(o->binds[i].src, O_PATH | O_CLOEXEC);
    if (bind_fds[i] < 0 && !(o->binds[i].try_only && errno == ENOENT)) { fail_set(f, "open-bind-source", errno); return -1; }
  }
  return 0;
}

/* Per-user counters of the kernel, bounded for this container inside its own
 * user namespace (/proc/sys/user of a namespace holds the limits of that
 * namespace, writable by whoever has CAP_SYS_RESOURCE in it: init). Every
 * program runs as the one inside uid, so each bound is the whole container's
 * share; the kernel charges the same counts to the namespace's owner on the
 * host too (userns.c), whose own limits are the host's. Namespaces: programs
 * may make none (seccomp says so too); each execution gets a cgroup and an
 * IPC namespace from its process before the filter (exec.c), and those are
 * freed a little after it ends, so their bound leaves room for bursts. */
static const struct { const char *name; long value; const char *host; } userns_limits[] = {
  { "max_user_namespaces", 0, NULL }, { "max_mnt_namespaces", 0, NULL }, { "max_pid_namespaces", 0, NULL },
  { "max_uts_namespaces", 0, NULL }, { "max_time_namespaces", 0, NULL },
  { "max_net_namespaces", 1, NULL },    /* the container's own, made by init's thread below */
  { "max_ipc_namespaces", 1024, NULL }, { "max_cgroup_namespaces", 1024, NULL },
  /* inotify: at most an eighth of what the host allows one user (whose limit
   * the owner's other containers and, rootless, the runner share), and no
   * more than a program needs (a 1 GiB machine allows 8192 watches per user) */
  { "max_inotify_instances", 16, "/proc/sys/fs/inotify/max_user_instances" },
  { "max_inotify_watches", 8192, "/proc/sys/fs/inotify/max_user_watches" },
  { "max_fanotify_groups", 0, NULL }, { "max_fanotify_marks", 0, NULL },
};
#define HOST_SHARE 8

static int userns_set_limits(struct failure *f) {
  for (size_t i = 0; i < sizeof userns_limits / sizeof userns_limits[0]; i++) {
    long v = userns_limits[i].value;
    char buf[32];
    /* the host's own per-user limit, read before our /proc is mounted */
    if (userns_limits[i].host && read_fileat(AT_FDCWD, userns_limits[i].host, buf, sizeof buf) > 0) {
      long host = strtol(buf, NULL, 10) / HOST_SHARE;
      if (host >= 1 && host < v) v = host;
    }
    char path[64], value[32];
    snprintf(path, sizeof path, "/proc/sys/user/%s", userns_limits[i].name);
    snprintf(value, sizeof value, "%ld", v);
    /* a limit this kernel does not have (fanotify's came in 5.13) is not a failure */
    if (write_file(path, value) < 0 && errno != ENOENT) { fail_set(f, "userns-limits", errno); return -1; }
  }
  return 0;
}

static void child(const struct opts *o, int go, int rep, int ctl, bool priv) {
  int rootfs_fd = -1, bind_fds[MAX_BINDS];
  struct failure f = { "", 0 };
  char c;
  signal(SIGPIPE, SIG_IGN);
  if (read(go, &c, 1) != 1) _exit(1); /* the launcher is gone */
  close(go);
  if (userns_become(o->uid, o->gid, priv, &f) < 0) goto fail;
  if (userns_set_limits(&f) < 0) goto fail;
  /* die with the launcher; set after the identity change, which clears it */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(&f, "pdeathsig", errno); goto fail; }
  /* not dumpable: our /proc entries (fd, cwd, root, environ, mem) belong to
   * no one a program can be, whatever capabilities it has or lacks; the
   * programs we fork become dumpable again at their exec */
  if (prctl(PR_SET_DUMPABLE, 0) < 0) { fail_set(&f, "dumpable", errno); goto fail; }
  struct netns_job nj;
  if (netns_start(&nj, &f) < 0) goto fail;
  if (open_sources(o, &rootfs_fd, bind_fds, &f) < 0) goto fail;
  if (sethostname(o->hostname, strlen(o->hostname)) < 0) { fail_set(&f, "sethostname", errno); goto fail; }
  if (mounts_setup(o, rootfs_fd, bind_fds, &f) < 0) goto fail;
  if (netns_enter(&nj, &f) < 0) goto fail;
  if (caps_drop_bounding(&f) < 0) goto fail; /* once for every program init forks */
  close(rootfs_fd);
  for (int i = 0; i < o->nbinds; i++) if (bind_fds[i] >= 0) close(bind_fds[i]);
  bool served = o->mode == MODE_HOLD;
  /* one-shot: the launcher has sent the program's fds meanwhile (exec_handover) */
  int release = -1;
  int wt = ctl >= 0 && !served ? oneshot_fork(o, ctl, rep, priv, &release) : -1;
  if (mounts_detach_old(&f) < 0) goto fail; /* P, waiting for RELEASE, dies with us */
  if (release >= 0) { if (write_all(release, "g", 1) < 0) _exit(1); close(release); }
  if (write_all(rep, &f, sizeof f) < 0) _exit(1);
  close(rep);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2 && null != wt) close(null); }
  /* the caller's pipes must see EOF when the launcher exits: keep only the
   * wait pipe (one-shot) or the request socket (hold), moved to fd 3 */
  int keep = served ? ctl : wt;
  if (keep >= 0 && keep != 3) { if (dup3(keep, 3, O_CLOEXEC) < 0) _exit(1); keep = 3; }
  syscall(SYS_close_range, keep >= 0 ? 4 : 3, ~0U, 0);
  if (wt >= 0) running[0].wt = wt = keep;
  init_loop(o, served ? keep : -1, priv);
fail:
  write_all(rep, &f, sizeof f);
  _exit(1);
}

int container_create(const struct opts *o, struct container *c, int (*meanwhile)(void *, struct failure *), void *arg, struct failure *f) {
  bool priv = geteuid() == 0;
  uid_t out_uid = priv ? o->sandbox_uid : geteuid();
  gid_t out_gid = priv ? o->sandbox_gid : getegid();
  int go[2], rep[2];
  int ctl[2] = { -1, -1 };
  c->ctl = -1;
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) { fail_set(f, "pipe", errno); return -1; }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) { fail_set(f, "socketpair", errno); return -1; }
  /* as root, the user namespace is made owned by the sandbox uid (userns.c) */
  struct userns_owner saved;
  if (priv && userns_owner_become(out_uid, out_gid, &saved, f) < 0) return -1;
  /* the network namespace is made by init itself, in parallel (netns_make) */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
  int clone_errno = errno;
  if (pid != 0 && priv && userns_owner_restore(&saved, f) < 0) {
    if (pid > 0) { kill(pid, SIGKILL); waitpid(pid, NULL, 0); }
    return -1;
  }
  if (pid < 0) { fail_set(f, "clone-namespaces", clone_errno); return -1; }
  if (pid == 0) {
    close(go[1]);
    close(rep[0]);
    if (ctl[0] >= 0) close(ctl[0]);
    child(o, go[0], rep[1], ctl[1], priv);
    _exit(1);
  }
  close(go[0]);
  close(rep[1]);
  close(ctl[1]);
  c->ctl = ctl[0];
  c->init = pid;
  int rc = userns_write_maps(pid, o->uid, out_uid, o->gid, out_gid, priv, f);
  if (rc == 0 && write_all(go[1], "g", 1) < 0) { fail_set(f, "container-start", errno); rc = -1; }
  close(go[1]);
  /* while init builds the container, the launcher does its own part (one-shot: the cgroups) */
  bool side_failed = false;
  if (rc == 0 && meanwhile && meanwhile(arg, f) < 0) {
    /* init may have failed first (and the hand-over failed because it was
     * gone): its step is the cause. Shut the socket so that an init waiting
     * for the program's fds ends too, then read what it reported. */
    side_failed = true;
    shutdown(c->ctl, SHUT_RDWR);
  }
  if (rc == 0) {
    struct failure got;
    int n = read_full(rep[0], &got, sizeof got);
    if (n == (int)sizeof got && got.step[0]) { *f = got; rc = -1; }
    else if (side_failed) rc = -1;
    else if (n != (int)sizeof got) { fail_set(f, "container-init", n < 0 ? errno : EIO); rc = -1; }
  }
  close(rep[0]);
  if (rc < 0) container_destroy(c);
  return rc;
}

void container_destroy(struct container *c) {
  if (c->ctl >= 0) { close(c->ctl); c->ctl = -1; }
  if (c->init > 0) {
    kill(c->init, SIGKILL);
    waitpid(c->init, NULL, 0);
    c->init = 0;
  }
}
