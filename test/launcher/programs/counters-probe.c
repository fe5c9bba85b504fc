/* The host's side of test/launcher/kernel-counters.test.ts: run as the test's
 * own uid (root, or the rootless runner), it uses each per-user counter once
 * every 20 ms for DURATION_MS — an inotify instance and a watch, a queued signal, a small
 * POSIX message queue, a child process — and prints how many rounds ran and
 * which uses failed, with their errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  long long until = now_ms() + (argc > 1 ? atoi(argv[1]) : 3000);
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &rt, NULL);
  char name[64];
  snprintf(name, sizeof name, "/warren-probe-%d", getpid());
  struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 64 };
  int rounds = 0, inotify = 0, inotify_errno = 0, watches = 0, watches_errno = 0, signals = 0, signals_errno = 0, queues = 0, queues_errno = 0, forks = 0, fork_errno = 0;
  while (now_ms() < until) {
    rounds++;
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) { inotify++; inotify_errno = errno; }
    else {
      if (inotify_add_watch(fd, "/", IN_MODIFY) < 0) { watches++; watches_errno = errno; }
      close(fd);
    }
    union sigval v = { .sival_int = rounds };
    if (sigqueue(getpid(), SIGRTMIN, v) < 0) { signals++; signals_errno = errno; }
    else { siginfo_t si; struct timespec zero = { 0, 0 }; sigtimedwait(&rt, &si, &zero); }
    mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
    if (q < 0) { queues++; queues_errno = errno; } else { mq_close(q); mq_unlink(name); }
    pid_t p = fork();
    if (p < 0) { forks++; fork_errno = errno; } else if (p == 0) _exit(0); else waitpid(p, NULL, 0);
    usleep(20000);
  }
  printf("{\"rounds\":%d,\"inotifyFailed\":%d,\"inotifyErrno\":%d,\"watchesFailed\":%d,\"watchesErrno\":%d,\"signalsFailed\":%d,\"signalsErrno\":%d,"
         "\"queuesFailed\":%d,\"queuesErrno\":%d,\"forksFailed\":%d,\"forkErrno\":%d}\n",
         rounds, inotify, inotify_errno, watches, watches_errno, signals, signals_errno, queues, queues_errno, forks, fork_errno);
  return 0;
}
