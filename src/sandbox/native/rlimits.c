/* rlimits: per-process backstops under the cgroup limits. No core dumps
 * (they would fill the scratch and leak memory contents); RLIMIT_CPU one second
 * past the CPU limit in case the launcher's own accounting misses it.
 *
 * The per-user counters the kernel keeps in user namespaces: pending signals
 * (POSIX timers hold one each), POSIX message queue bytes and locked shared
 * memory are counted per uid of the container's user namespace (so for all
 * of the container: every program runs as the one inside uid) and compared
 * with the rlimit of the process that asks; the same counts are charged to
 * the namespace's owner on the host (userns.c). Low values bound what one
 * container can take of its owner's share: the host's defaults are ~96,000
 * signals and 800 KiB of queues per user. RLIMIT_NPROC is not set: the
 * cgroup's pids limit bounds processes. */
#include "launcher.h"
#include <errno.h>
#include <sys/resource.h>

/* a container's share of the per-user counters (docs/launcher.md, SECURITY.md) */
#define SIGPENDING_MAX 256
#define MSGQUEUE_BYTES_MAX (128 << 10)
#define MEMLOCK_BYTES_MAX (1 << 20)

static int lim(int res, rlim_t v, struct failure *f, enum step step) {
  struct rlimit r = { v, v };
  if (setrlimit(res, &r) < 0) { fail_set(f, step, errno); return -1; }
  return 0;
}

/* at most V: never above the hard limit we were given (raising it would need a capability on the host) */
static int lim_at_most(int res, rlim_t v, struct failure *f, enum step step) {
  struct rlimit r;
  if (getrlimit(res, &r) < 0) { fail_set(f, step, errno); return -1; }
  return lim(res, r.rlim_max < v ? r.rlim_max : v, f, step);
}

int rlimits_apply(const struct opts *o, struct failure *f) {
  if (lim(RLIMIT_CORE, 0, f, STEP_RLIMIT_CORE)) return -1;
  if (lim(RLIMIT_NOFILE, (rlim_t)o->open_files, f, STEP_RLIMIT_NOFILE)) return -1;
  if (lim(RLIMIT_STACK, (rlim_t)o->stack_mb << 20, f, STEP_RLIMIT_STACK)) return -1;
  if (lim(RLIMIT_FSIZE, (rlim_t)o->file_size_mb << 20, f, STEP_RLIMIT_FSIZE)) return -1;
  /* a zygote lives on past its request, paying each child's fork: its CPU is bounded by the launcher while it starts (request.c), and each child has its own */
  if (o->cpu_ms > 0 && !o->zygote && lim(RLIMIT_CPU, (rlim_t)(o->cpu_ms + 999) / 1000 + 1, f, STEP_RLIMIT_CPU)) return -1;
  if (lim_at_most(RLIMIT_SIGPENDING, SIGPENDING_MAX, f, STEP_RLIMIT_SIGPENDING)) return -1;
  if (lim_at_most(RLIMIT_MSGQUEUE, MSGQUEUE_BYTES_MAX, f, STEP_RLIMIT_MSGQUEUE)) return -1;
  if (lim_at_most(RLIMIT_MEMLOCK, MEMLOCK_BYTES_MAX, f, STEP_RLIMIT_MEMLOCK)) return -1;
  return 0;
}
