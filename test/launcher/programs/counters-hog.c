/* A hostile job for the per-user kernel counters (test/launcher/kernel-counters.test.ts):
 * takes as much as it can of every counter the kernel keeps per user —
 * inotify instances and watches, queued signals, POSIX message queue bytes,
 * processes —
 * tries what must be refused outright, prints one line of what it got, then
 * holds it all for HOLD_MS while the host probes its own counters. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int read_int(const char *path) {
  FILE *f = fopen(path, "r");
  int v = -1;
  if (f) { if (fscanf(f, "%d", &v) != 1) v = -1; fclose(f); }
  return v;
}

int main(int argc, char **argv) {
  int hold_ms = argc > 1 ? atoi(argv[1]) : 2000;
  static int instances[100000];
  int inotify = 0, inotify_errno = 0;
  for (; inotify < 100000; inotify++) if ((instances[inotify] = inotify_init1(IN_CLOEXEC)) < 0) { inotify_errno = errno; break; }

  /* a watch per file of /usr/bin in every instance (one inode counts once per instance) */
  int watches = 0, watches_errno = 0;
  DIR *bin = opendir("/usr/bin");
  for (int i = 0; bin && i < inotify && !watches_errno; i++) {
    rewinddir(bin);
    int last = 0; /* an inode watched again (a hard link) gives its watch's number again: count new ones */
    for (struct dirent *e; (e = readdir(bin)) && !watches_errno; ) {
      char path[512];
      snprintf(path, sizeof path, "/usr/bin/%s", e->d_name);
      int wd = inotify_add_watch(instances[i], path, IN_MODIFY | IN_DONT_FOLLOW);
      if (wd > last) { watches++; last = wd; }
      else if (wd < 0 && errno == ENOSPC) watches_errno = errno;
    }
  }

  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &rt, NULL);
  int signals = 0, signals_errno = 0;
  for (; signals < 200000; signals++) {
    union sigval v = { .sival_int = signals };
    if (sigqueue(getpid(), SIGRTMIN, v) < 0) { signals_errno = errno; break; }
  }

  struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 8192 };
  int queues = 0, queues_errno = 0;
  for (; queues < 1000; queues++) {
    char name[32];
    snprintf(name, sizeof name, "/hog-%d", queues);
    if (mq_open(name, O_CREAT | O_RDWR, 0600, &attr) < 0) { queues_errno = errno; break; }
  }

  int children = 0, fork_errno = 0;
  for (; children < 10000; children++) {
    pid_t p = fork();
    if (p < 0) { fork_errno = errno; break; }
    if (p == 0) { pause(); _exit(0); }
  }

  int fanotify = syscall(SYS_fanotify_init, FAN_CLASS_NOTIF | FAN_REPORT_FID, O_RDONLY) < 0 ? errno : 0;
  int userns = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
  aio_context_t ctx = 0;
  int aio = syscall(SYS_io_setup, 65536, &ctx) < 0 ? errno : 0;
  int hugetlb = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0) == MAP_FAILED ? errno : 0;
  int keys = syscall(SYS_add_key, "user", "warren", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */) < 0 ? errno : 0;

  printf("{\"inotify\":%d,\"inotifyErrno\":%d,\"watches\":%d,\"watchesErrno\":%d,\"signals\":%d,\"signalsErrno\":%d,\"queues\":%d,\"queuesErrno\":%d,"
         "\"children\":%d,\"forkErrno\":%d,\"fanotifyErrno\":%d,\"userNsErrno\":%d,\"aioErrno\":%d,\"hugetlbErrno\":%d,\"keysErrno\":%d,"
         "\"maxInotifyInstances\":%d,\"maxInotifyWatches\":%d,\"maxUserNamespaces\":%d,\"maxFanotifyGroups\":%d}\n",
         inotify, inotify_errno, watches, watches_errno, signals, signals_errno, queues, queues_errno, children, fork_errno, fanotify, userns, aio, hugetlb, keys,
         read_int("/proc/sys/user/max_inotify_instances"), read_int("/proc/sys/user/max_inotify_watches"),
         read_int("/proc/sys/user/max_user_namespaces"), read_int("/proc/sys/user/max_fanotify_groups"));
  fflush(stdout);
  usleep((useconds_t)hold_ms * 1000);
  return 0;
}
