/* The container: a process that is pid 1 of fresh user, mount, pid, net,
 * ipc and uts namespaces, with the overlay root set up. It only reaps
 * orphans until the launcher kills it; killing it kills every process in the
 * container, since they all live in its pid namespace. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const ns_names[6] = { "user", "mnt", "pid", "net", "ipc", "uts" };

static void init_loop(void) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL); /* pid 1 ignores what it has no handler for: nothing inside can stop it */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    sigwaitinfo(&chld, NULL);
  }
}

/* Runs in the new namespaces as pid 1. */
/* Sources are opened here, inside the new mount namespace: a mount made from an
 * fd of the host's namespace is refused (overlay: "failed to clone lowerpath").
 * They are opened as the sandbox identity, which must be able to read them. */
static int open_sources(const struct opts *o, int *rootfs_fd, int *copy_fd, int *bind_fds, struct failure *f) {
  *rootfs_fd = open(o->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*rootfs_fd < 0) { fail_set(f, "open-rootfs", errno); return -1; }
  *copy_fd = -1;
  if (o->copy_in && (*copy_fd = open(o->copy_in, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
    fail_set(f, "open-copy-in", errno); return -1;
  }
  for (int i = 0; i < o->nbinds; i++) {
    bind_fds[i] = open(o->binds[i].src, O_PATH | O_CLOEXEC);
    if (bind_fds[i] < 0 && !(o->binds[i].try_only && errno == ENOENT)) { fail_set(f, "open-bind-source", errno); return -1; }
  }
  return 0;
}

static void child(const struct opts *o, int go, int rep, bool priv) {
  int rootfs_fd = -1, copy_fd = -1, bind_fds[MAX_BINDS];
  struct failure f = { "", 0 };
  char c;
  signal(SIGPIPE, SIG_IGN);
  if (read(go, &c, 1) != 1) _exit(1); /* the launcher is gone */
  close(go);
  if (userns_become(o->uid, o->gid, priv, &f) < 0) goto fail;
  /* die with the launcher; set after the identity change, which clears it */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) { fail_set(&f, "pdeathsig", errno); goto fail; }
  /* dumpable, so that a joining launcher of the same host uid may open our
   * namespaces; the program cannot use that against us: it has no capabilities
   * and we hold all of ours in this namespace (ptrace access needs a superset). */
  if (prctl(PR_SET_DUMPABLE, 1) < 0) { fail_set(&f, "dumpable", errno); goto fail; }
  if (open_sources(o, &rootfs_fd, &copy_fd, bind_fds, &f) < 0) goto fail;
  if (sethostname(o->hostname, strlen(o->hostname)) < 0) { fail_set(&f, "sethostname", errno); goto fail; }
  if (net_loopback_up(&f) < 0) goto fail;
  if (mounts_setup(o, rootfs_fd, copy_fd, bind_fds, &f) < 0) goto fail;
  close(rootfs_fd);
  if (copy_fd >= 0) close(copy_fd);
  for (int i = 0; i < o->nbinds; i++) if (bind_fds[i] >= 0) close(bind_fds[i]);
  if (write_all(rep, &f, sizeof f) < 0) _exit(1);
  close(rep);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
  syscall(SYS_close_range, 3, ~0U, 0); /* the caller's pipes must see EOF when the launcher exits */
  init_loop();
fail:
  write_all(rep, &f, sizeof f);
  _exit(1);
}

int container_create(const struct opts *o, struct container *c, struct failure *f) {
  bool priv = geteuid() == 0;
  uid_t out_uid = priv ? o->sandbox_uid : geteuid();
  gid_t out_gid = priv ? o->sandbox_gid : getegid();
  int go[2], rep[2];
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) { fail_set(f, "pipe", errno); return -1; }
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) { fail_set(f, "clone-namespaces", errno); return -1; }
  if (pid == 0) {
    close(go[1]);
    close(rep[0]);
    child(o, go[0], rep[1], priv);
    _exit(1);
  }
  close(go[0]);
  close(rep[1]);
  c->init = pid;
  for (int i = 0; i < 6; i++) c->ns_fds[i] = -1;
  int rc = userns_write_maps(pid, o->uid, out_uid, o->gid, out_gid, priv, f);
  if (rc == 0 && write_all(go[1], "g", 1) < 0) { fail_set(f, "container-start", errno); rc = -1; }
  close(go[1]);
  if (rc == 0) {
    struct failure got;
    int n = read_full(rep[0], &got, sizeof got);
    if (n != (int)sizeof got) { fail_set(f, "container-init", n < 0 ? errno : EIO); rc = -1; }
    else if (got.step[0]) { *f = got; rc = -1; }
  }
  close(rep[0]);
  if (rc == 0) rc = container_open_ns(pid, c, f);
  if (rc < 0) container_destroy(c);
  return rc;
}

int container_open_ns(pid_t pid, struct container *c, struct failure *f) {
  c->init = pid;
  for (int i = 0; i < 6; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, ns_names[i]);
    c->ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (c->ns_fds[i] < 0) { fail_set(f, "open-namespace", errno); return -1; }
  }
  return 0;
}

void container_destroy(struct container *c) {
  for (int i = 0; i < 6; i++) if (c->ns_fds[i] >= 0) { close(c->ns_fds[i]); c->ns_fds[i] = -1; }
  if (c->init > 0) {
    kill(c->init, SIGKILL);
    waitpid(c->init, NULL, 0);
    c->init = 0;
  }
}
