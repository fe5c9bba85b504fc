/* rlimits: per-process backstops under the cgroup limits. No core dumps
 * (they would fill the scratch and leak memory contents); RLIMIT_CPU one second
 * past the CPU limit in case the launcher's own accounting misses it. RLIMIT_NPROC
 * is not used: it counts every process of the host uid, not the sandbox's. */
#include "launcher.h"
#include <errno.h>
#include <sys/resource.h>

static int lim(int res, rlim_t v, struct failure *f, const char *step) {
  struct rlimit r = { v, v };
  if (setrlimit(res, &r) < 0) { fail_set(f, step, errno); return -1; }
  return 0;
}

int rlimits_apply(const struct opts *o, struct failure *f) {
  if (lim(RLIMIT_CORE, 0, f, "rlimit-core")) return -1;
  if (lim(RLIMIT_NOFILE, (rlim_t)o->open_files, f, "rlimit-nofile")) return -1;
  if (lim(RLIMIT_STACK, (rlim_t)o->stack_mb << 20, f, "rlimit-stack")) return -1;
  if (lim(RLIMIT_FSIZE, (rlim_t)o->file_size_mb << 20, f, "rlimit-fsize")) return -1;
  if (o->cpu_ms > 0 && lim(RLIMIT_CPU, (rlim_t)(o->cpu_ms + 999) / 1000 + 1, f, "rlimit-cpu")) return -1;
  return 0;
}
