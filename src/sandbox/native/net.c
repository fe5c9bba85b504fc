/* Network: a fresh network namespace has only a loopback device, down.
 * Bring it up so programs can talk to themselves; there is no route out. */
#include "launcher.h"
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int net_loopback_up(struct failure *f) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { fail_set(f, "net-socket", errno); return -1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
      (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
    fail_set(f, "net-loopback-up", errno);
    close(s);
    return -1;
  }
  close(s);
  return 0;
}
