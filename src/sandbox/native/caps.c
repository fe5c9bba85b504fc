/* Capabilities: the program runs with none, in any set, and cannot regain
 * any (bounding set emptied, ambient cleared, no_new_privs set). */
#include "launcher.h"
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Empties the bounding set. Each drop replaces the process's credentials, so
 * only capabilities still in the set are dropped; the kernel's last one
 * answers EINVAL past it. The container's init empties its own once
 * (caps_drop_bounding, before it forks any program): it never execs, so it
 * loses nothing, and its programs then find the set empty. */
int caps_drop_bounding(struct failure *f) {
  for (int c = 0; c <= 63; c++) {
    int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
    if (in < 0 && errno == EINVAL) break;
    if (in < 0) { fail_set(f, STEP_CAPS_BOUNDING, errno); return -1; }
    if (in && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) { fail_set(f, STEP_CAPS_BOUNDING, errno); return -1; }
  }
  return 0;
}

int caps_drop_all(struct failure *f) {
  if (caps_drop_bounding(f) < 0) return -1;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) { fail_set(f, STEP_CAPS_AMBIENT, errno); return -1; }
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
  if (syscall(SYS_capset, &h, d) < 0) { fail_set(f, STEP_CAPS_CLEAR, errno); return -1; }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { fail_set(f, STEP_NO_NEW_PRIVS, errno); return -1; }
  return 0;
}
