/* The status line: one JSON object on --status-fd, written once. */
#include "launcher.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* sigabbrev_np(3) is glibc's own: the standard signals' names, as it gives them */
static const char *sigabbrev(int sig) {
  static const struct { int sig; const char *name; } names[] = {
    { SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" }, { SIGILL, "ILL" }, { SIGTRAP, "TRAP" },
    { SIGABRT, "ABRT" }, { SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" }, { SIGUSR1, "USR1" },
    { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" }, { SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
#ifdef SIGSTKFLT
    { SIGSTKFLT, "STKFLT" },
#endif
    { SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" }, { SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" },
    { SIGTTOU, "TTOU" }, { SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" }, { SIGVTALRM, "VTALRM" },
    { SIGPROF, "PROF" }, { SIGWINCH, "WINCH" }, { SIGIO, "IO" }, { SIGPWR, "PWR" }, { SIGSYS, "SYS" },
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) if (names[i].sig == sig) return names[i].name;
  return NULL;
}

static const char *signame(int sig) {
  static char buf[16];
  const char *abbrev = sigabbrev(sig);
  if (!abbrev) { snprintf(buf, sizeof buf, "SIG%d", sig); return buf; }
  snprintf(buf, sizeof buf, "SIG%s", abbrev);
  return buf;
}

/* ,"degraded":[...] for D (enum degraded), or nothing when it is 0 */
static const char *degraded_json(char *buf, size_t size, unsigned d) {
  static const struct { unsigned bit; const char *name; } names[] = {
    { DEGRADED_HOSTNAME, "hostname" }, { DEGRADED_PROC, "proc" }, { DEGRADED_USERNS_LIMITS, "userns-limits" },
  };
  if (!d) return "";
  size_t n = (size_t)snprintf(buf, size, ",\"degraded\":[");
  bool first = true;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && n < size; i++) {
    if (!(d & names[i].bit)) continue;
    n += (size_t)snprintf(buf + n, size - n, "%s\"%s\"", first ? "" : ",", names[i].name);
    first = false;
  }
  if (n < size) snprintf(buf + n, size - n, "]");
  return buf;
}

int status_result_str(char *buf, size_t size, const struct exec_result *r, const int64_t *t, int nt) {
  char exit_code[16] = "null", sig[24] = "null", timings[160] = "", degraded[64];
  if (r->exited) snprintf(exit_code, sizeof exit_code, "%d", r->exit_code);
  if (r->signal) snprintf(sig, sizeof sig, "\"%s\"", signame(r->signal));
  if (t && nt >= 4)
    snprintf(timings, sizeof timings, ",\"timings\":{\"startUs\":%lld,\"execUs\":%lld,\"answerUs\":%lld}",
             (long long)t[3], (long long)t[1], (long long)t[2]);
  else if (t && nt >= 3)
    snprintf(timings, sizeof timings, ",\"timings\":{\"containerUs\":%lld,\"execUs\":%lld,\"teardownUs\":%lld}",
             (long long)t[0], (long long)t[1], (long long)t[2]);
  int n = snprintf(buf, size,
          "{\"status\":\"%s\",\"exitCode\":%s,\"signal\":%s,\"cpuTimeMs\":%.3f,\"wallTimeMs\":%.3f,"
          "\"memoryKb\":%lld,\"oomKilled\":%s,\"stdoutBytes\":%lld,\"stderrBytes\":%lld,\"outputTruncated\":%s,"
          "\"stdoutTruncated\":%s,\"stderrTruncated\":%s%s%s}\n",
          r->status, exit_code, sig, r->cpu_ms, r->wall_ms, r->memory_kb, r->oom_killed ? "true" : "false",
          r->stdout_bytes, r->stderr_bytes, r->output_truncated ? "true" : "false",
          r->stdout_truncated ? "true" : "false", r->stderr_truncated ? "true" : "false", timings, degraded_json(degraded, sizeof degraded, r->degraded));
  return n < (int)size ? n : (int)size - 1;
}

void status_result(int fd, const struct exec_result *r, const int64_t *t, int nt) {
  if (fd < 0) return;
  char buf[1024];
  write_all(fd, buf, (size_t)status_result_str(buf, sizeof buf, r, t, nt));
}

/* S as the contents of a JSON string (quotes, backslashes and control characters escaped), cut to fit SIZE. */
static void json_string(char *out, size_t size, const char *s) {
  size_t j = 0;
  for (; *s && j + 7 < size; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') { out[j++] = '\\'; out[j++] = (char)ch; }
    else if (ch < 0x20) j += (size_t)snprintf(out + j, size - j, "\\u%04x", ch);
    else out[j++] = (char)ch;
  }
  out[j] = 0;
}

int status_failure_str(char *buf, size_t size, const struct failure *f, const char *message) {
  char esc[600], exec[480] = "";
  /* a failed execve: what failed (execve.c). Its escapes are capped (and then the
   * message's) so that the line fits the 1024-byte buffers whole. */
  bool what = f->path[0] || f->interpreter[0];
  const char *hint = message ? NULL : status_hint(f);
  char text[512];
  if (hint) snprintf(text, sizeof text, "%s: %s", errno_text(f->err), hint);
  json_string(esc, what ? 160 : sizeof esc, message ? message : hint ? text : errno_text(f->err));
  if (what) {
    char path[200], interp[200];
    json_string(path, sizeof path, f->path);
    json_string(interp, sizeof interp, f->interpreter);
    snprintf(exec, sizeof exec, "%s%s%s%s%s%s%s", f->path[0] ? ",\"path\":\"" : "", path, f->path[0] ? "\"" : "",
             f->interpreter[0] ? ",\"interpreter\":\"" : "", interp, f->interpreter[0] ? "\"" : "", f->scratch ? ",\"scratch\":true" : "");
  }
  int n = snprintf(buf, size, "{\"status\":\"internal_error\",\"step\":\"%s\",\"errno\":%d,\"message\":\"%s\"%s}\n",
                   step_name(f->step), f->err, esc, exec);
  return n < (int)size ? n : (int)size - 1;
}

void status_failure(int fd, const struct failure *f, const char *message) {
  if (fd < 0) return;
  char buf[1024];
  write_all(fd, buf, (size_t)status_failure_str(buf, sizeof buf, f, message));
}

void status_ready(int fd, pid_t pid, unsigned degraded) {
  if (fd < 0) return;
  char d[64];
  dprintf(fd, "{\"ready\":true,\"pid\":%d%s}\n", pid, degraded_json(d, sizeof d, degraded));
}

/* A fresh procfs is refused (EPERM) in a user namespace while anything is
 * mounted over part of the /proc the launcher sees: what container runtimes
 * do by default. The fix is the container's, or Warren's explicit opt-in. */
const char *status_hint(const struct failure *f) {
  if (f->step == STEP_MOUNT_PROC && f->err == EPERM)
    return "a fresh /proc is refused while parts of this /proc are masked (a container runtime's default): run the container with "
           "/proc unmasked (podman: --security-opt unmask=/proc/*; Docker: --security-opt systempaths=unconfined; Kubernetes: "
           "securityContext.procMount: Unmasked), or opt in to binding its /proc: --bind-proc (WARREN_BIND_PROC=1; SECURITY.md says what it exposes)";
  /* a --cgroup directory this user may not use: the class of a container's read-only or root-owned cgroups */
  bool cgroup_dir = f->step == STEP_CGROUP_OPEN_PARENT || f->step == STEP_CGROUP_MKDIR || f->step == STEP_CGROUP_OPEN ||
                    f->step == STEP_CGROUP_SUBTREE_CONTROL || f->step == STEP_CGROUP_OPEN_PROCS || f->step == STEP_CGROUP_ENTER;
  if (cgroup_dir && (f->err == EACCES || f->err == EPERM || f->err == EROFS || f->err == ENOENT))
    return "a --cgroup directory this user cannot use: delegate it (sudo warren setup-cgroups --user USER; warren doctor checks it); "
           "inside a container, bind the delegated directories read-write at the same paths and run Warren as a non-root uid "
           "(on cgroup v1 a container's root is refused: cgroup-enter, EACCES)";
  return NULL;
}
