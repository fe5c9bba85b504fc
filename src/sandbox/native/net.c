/* Network: a fresh network namespace has only a loopback device, down.
 * Bring it up so programs can talk to themselves; there is no route out. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int net_loopback_up(struct failure *f) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { fail_set(f, STEP_NET_SOCKET, errno); return -1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
      (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
    fail_set(f, STEP_NET_LOOPBACK_UP, errno);
    close(s);
    return -1;
  }
  close(s);
  return 0;
}

/* The network namespace is the costly one to make (about 0.4 ms, more than
 * the other five together), so init makes it on a thread while it builds the
 * mounts, then enters it before anything runs in the container: the thread
 * unshares a fresh network namespace (owned by the container's user
 * namespace), brings its loopback up and opens it; init joins it with setns. */
static void *netns_make(void *arg) {
  struct netns_job *j = arg;
  if (unshare(CLONE_NEWNET) < 0) { fail_set(&j->f, STEP_UNSHARE_NET, errno); return NULL; }
  if (net_loopback_up(&j->f) < 0) return NULL;
  if ((j->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) fail_set(&j->f, STEP_OPEN_NETNS, errno);
  return NULL;
}

int netns_start(struct netns_job *j, struct failure *f) {
  pthread_attr_t a;
  j->fd = -1;
  j->f.step = STEP_NONE;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  int e = pthread_create(&j->t, &a, netns_make, j);
  pthread_attr_destroy(&a);
  if (e) { fail_set(f, STEP_NETNS_THREAD, e); return -1; }
  return 0;
}

int netns_enter(struct netns_job *j, struct failure *f) {
  int e = pthread_join(j->t, NULL);
  if (e) { fail_set(f, STEP_NETNS_THREAD, e); return -1; }
  if (j->f.step != STEP_NONE) { *f = j->f; return -1; }
  int rc = setns(j->fd, CLONE_NEWNET);
  if (rc < 0) fail_set(f, STEP_SETNS_NET, errno);
  close(j->fd);
  return rc;
}
