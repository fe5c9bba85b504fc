/* Command-line parsing. Every option is documented in docs/launcher.md. */
#include "launcher.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int num(const char *name, const char *v, long min, long max, long *out, char *err, size_t errlen) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || *end || end == v || n < min || n > max) {
    snprintf(err, errlen, "%s expects a whole number from %ld to %ld, got '%s'", name, min, max, v);
    return -1;
  }
  *out = n;
  return 0;
}

/* Exec options take the same defaults in every mode. */
static void exec_defaults(struct opts *o) {
  o->memory_mb = o->pids = o->cpu_ms = o->wall_ms = o->output_kb = o->file_size_mb = -1;
  o->open_files = 256;
  o->stack_mb = 64;
  o->status_fd = -1;
}

/* Parses argv[i...] into O. EXEC_ONLY (a served request): container options
 * are refused. Otherwise (a command line) the exec options are also kept in
 * o->request, with "--" and the program: a one-shot's one request. */
static int parse(struct opts *o, int argc, char **argv, int i, bool exec_only, char *err, size_t errlen) {
  if (!exec_only && !(o->request = malloc(sizeof *o->request * (size_t)(argc + 2)))) { snprintf(err, errlen, "out of memory"); return -1; }
  for (; i < argc; i++) {
    const char *a = argv[i];
    long v;
    int first = i;
    bool container_option = false;
#define NEED(k) do { if (i + (k) >= argc) { snprintf(err, errlen, "%s needs %d argument(s)", a, (k)); return -1; } } while (0)
#define NUM(field, min, max) do { NEED(1); if (num(a, argv[++i], min, max, &v, err, errlen)) return -1; o->field = v; } while (0)
#define CONTAINER_ONLY() do { container_option = true; if (exec_only) { snprintf(err, errlen, "%s is a container option: not allowed in an exec request", a); return -1; } } while (0)
    if (!strcmp(a, "--")) { i++; break; }
    else if (!strcmp(a, "--hold")) { CONTAINER_ONLY(); o->mode = MODE_HOLD; }
    else if (!strcmp(a, "--rootfs")) { CONTAINER_ONLY(); NEED(1); o->rootfs = argv[++i]; }
    else if (!strcmp(a, "--ro-bind") || !strcmp(a, "--ro-bind-try")) {
      CONTAINER_ONLY();
      NEED(2);
      if (o->nbinds == MAX_BINDS) { snprintf(err, errlen, "at most %d binds", MAX_BINDS); return -1; }
      if (argv[i + 2][0] != '/') { snprintf(err, errlen, "%s: DEST must be absolute, got '%s'", a, argv[i + 2]); return -1; }
      o->binds[o->nbinds++] = (struct bind){ argv[i + 1], argv[i + 2], a[9] == '-' };
      i += 2;
    }
    else if (!strcmp(a, "--scratch-mb")) { CONTAINER_ONLY(); NUM(scratch_mb, 1, 1 << 20); }
    else if (!strcmp(a, "--unpack")) {
      if (!exec_only) { snprintf(err, errlen, "--unpack is only for served requests (docs/launcher.md)"); return -1; }
      o->unpack = true;
    }
    else if (!strcmp(a, "--unpack-first")) {
      if (!exec_only) { snprintf(err, errlen, "--unpack-first is only for served requests (docs/launcher.md)"); return -1; }
      NUM(unpack_first, 1, 0xffffffffL);
    }
    else if (!strcmp(a, "--workdir")) { CONTAINER_ONLY(); NEED(1); o->workdir = argv[++i]; }
    else if (!strcmp(a, "--hostname")) { CONTAINER_ONLY(); NEED(1); o->hostname = argv[++i]; }
    else if (!strcmp(a, "--uid")) { CONTAINER_ONLY(); NUM(uid, 1, 65535); }
    else if (!strcmp(a, "--gid")) { CONTAINER_ONLY(); NUM(gid, 1, 65535); }
    else if (!strcmp(a, "--sandbox-uid")) { CONTAINER_ONLY(); NUM(sandbox_uid, 1, 0x7fffffff); }
    else if (!strcmp(a, "--sandbox-gid")) { CONTAINER_ONLY(); NUM(sandbox_gid, 1, 0x7fffffff); }
    else if (!strcmp(a, "--cgroup")) {
      /* a held container's executions are made in its own cgroup (--cgroup at --hold) */
      CONTAINER_ONLY();
      NEED(1);
      if (o->ncgroups == MAX_CGROUPS) { snprintf(err, errlen, "at most %d --cgroup", MAX_CGROUPS); return -1; }
      o->cgroups[o->ncgroups++] = argv[++i];
    }
    else if (!strcmp(a, "--memory-mb")) NUM(memory_mb, 1, 1 << 24);
    else if (!strcmp(a, "--pids")) NUM(pids, 1, 1 << 22);
    else if (!strcmp(a, "--cpu-ms")) NUM(cpu_ms, 1, 1L << 40);
    else if (!strcmp(a, "--wall-ms")) NUM(wall_ms, 1, 1L << 40);
    else if (!strcmp(a, "--output-kb")) NUM(output_kb, 0, 1L << 30);
    else if (!strcmp(a, "--open-files")) NUM(open_files, 3, 1 << 20);
    else if (!strcmp(a, "--file-size-mb")) NUM(file_size_mb, 0, 1L << 30);
    else if (!strcmp(a, "--stack-mb")) NUM(stack_mb, 1, 1 << 20);
    else if (!strcmp(a, "--status-fd")) { CONTAINER_ONLY(); NUM(status_fd, 0, 1 << 20); }
    else if (!strcmp(a, "--cpus")) {
      NEED(1);
      char *end; o->cpus = strtod(argv[++i], &end);
      if (*end || o->cpus < 0.01 || o->cpus > 1024) { snprintf(err, errlen, "--cpus expects a number from 0.01 to 1024, got '%s'", argv[i]); return -1; }
    }
    else if (!strcmp(a, "--env")) {
      NEED(1);
      if (o->nenv == MAX_ENV) { snprintf(err, errlen, "at most %d --env", MAX_ENV); return -1; }
      if (!strchr(argv[i + 1], '=')) { snprintf(err, errlen, "--env expects KEY=VALUE, got '%s'", argv[i + 1]); return -1; }
      o->env[o->nenv++] = argv[++i];
    }
    else if (!strcmp(a, "--chdir")) { NEED(1); o->chdir = argv[++i]; }
    else if (!strcmp(a, "--timings")) o->timings = true;
    else if (!strcmp(a, "--zygote-host")) { CONTAINER_ONLY(); o->zygote_host = true; }
    else if (!strcmp(a, "--bind-proc")) { CONTAINER_ONLY(); o->bind_proc = true; }
    else if (!strcmp(a, "--zygote") || !strcmp(a, "--via-zygote")) {
      if (!exec_only) { snprintf(err, errlen, "%s is only for served requests (docs/launcher.md, \"Zygotes\")", a); return -1; }
      if (a[2] == 'z') o->zygote = true; else o->via_zygote = true;
    }
    else if (!strcmp(a, "--usage-frames")) {
      if (!exec_only) { snprintf(err, errlen, "--usage-frames is only for served requests"); return -1; }
      o->usage_frames = true;
    }
    else if (!strcmp(a, "--stdin-stream")) {
      if (!exec_only) { snprintf(err, errlen, "--stdin-stream is only for served requests (a one-shot's stdin is the launcher's own)"); return -1; }
      o->stdin_stream = true;
    }
    else { snprintf(err, errlen, "unknown option '%s' (see docs/launcher.md)", a); return -1; }
#undef CONTAINER_ONLY
#undef NUM
#undef NEED
    if (!exec_only && !container_option) for (int k = first; k <= i; k++) o->request[o->nrequest++] = argv[k];
  }
  o->argv = argv + i;
  if (!exec_only) {
    o->request[o->nrequest++] = "--";
    for (int k = i; k < argc; k++) o->request[o->nrequest++] = argv[k];
    o->request[o->nrequest] = NULL;
  }
  return 0;
}

/* What every mode checks once parsing is done. */
static int finish(struct opts *o, char *err, size_t errlen) {
  bool limited = o->memory_mb > 0 || o->pids > 0 || o->cpus > 0;
  if (limited && o->ncgroups == 0) { snprintf(err, errlen, "--memory-mb, --pids and --cpus need --cgroup"); return -1; }
  if (o->file_size_mb < 0) o->file_size_mb = o->scratch_mb;
  if (!o->chdir) o->chdir = o->workdir;
  return 0;
}

int opts_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  o->mode = MODE_ONESHOT;
  o->workdir = "/box";
  o->hostname = "warren";
  o->scratch_mb = 64;
  o->uid = o->gid = 1000;
  o->sandbox_uid = o->sandbox_gid = 65534;
  exec_defaults(o);
  if (parse(o, argc, argv, 1, false, err, errlen) < 0) return -1;
  const char *prog = o->argv[0];
  if (!o->rootfs) { snprintf(err, errlen, "--rootfs DIR is required"); return -1; }
  if (o->mode == MODE_HOLD && prog) { snprintf(err, errlen, "--hold takes no program"); return -1; }
  if (o->mode != MODE_HOLD && !prog) { snprintf(err, errlen, "no program given: warren-launch [OPTIONS] -- PROGRAM [ARG...]"); return -1; }
  if (o->workdir[0] != '/') { snprintf(err, errlen, "--workdir must be absolute"); return -1; }
  /* a zygote's children mount a procfs of their own pid namespace: what --bind-proc is for is that none can be had */
  if (o->bind_proc && o->zygote_host) { snprintf(err, errlen, "--bind-proc takes no --zygote-host (a zygote's children need a fresh procfs)"); return -1; }
  return finish(o, err, errlen);
}

int opts_parse_exec(struct opts *o, const struct opts *container, int argc, char **argv, char *err, size_t errlen) {
  *o = *container; /* identity, work dir, scratch size and cgroups are the container's */
  o->mode = MODE_SERVED;
  o->request = NULL;
  o->nrequest = 0;
  o->unpack = false;
  o->unpack_first = 0;
  o->nenv = 0;
  o->cpus = 0;
  o->chdir = NULL;
  o->timings = false;
  o->stdin_stream = false;
  o->usage_frames = false;
  o->zygote = o->via_zygote = false;
  o->env[0] = NULL;
  exec_defaults(o);
  if (parse(o, argc, argv, 0, true, err, errlen) < 0) return -1;
  o->env[o->nenv] = NULL;
  if (!o->argv[0] && !o->unpack) { snprintf(err, errlen, "an exec request needs a program, or --unpack"); return -1; }
  if (o->unpack && o->argv[0]) { snprintf(err, errlen, "--unpack takes no program"); return -1; }
  if (o->stdin_stream && !o->argv[0]) { snprintf(err, errlen, "--stdin-stream needs a program"); return -1; }
  if (o->unpack_first && (!o->argv[0] || o->unpack)) { snprintf(err, errlen, "--unpack-first needs a program, and no --unpack"); return -1; }
  if ((o->zygote || o->via_zygote) && (!container->zygote_host || !container->ncgroups)) { snprintf(err, errlen, "--zygote and --via-zygote need a container held with --zygote-host and --cgroup"); return -1; }
  if (o->zygote && (o->via_zygote || o->stdin_stream)) { snprintf(err, errlen, "--zygote takes no --via-zygote or --stdin-stream (its stdin is its control socket)"); return -1; }
  return finish(o, err, errlen);
}

int opts_split(char *buf, size_t n, char **argv, int max) {
  int argc = 0;
  if (n && buf[n - 1]) return -1;
  for (size_t i = 0; i < n; ) {
    if (argc == max - 1) return -1;
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;
  return argc;
}

int opts_read_request(int fd, const struct opts *container, struct opts *eo, char **args, struct failure *f) {
  char err[512];
  struct stat st;
  *args = NULL;
  if (fstat(fd, &st) < 0) { fail_set(f, STEP_SERVED_REQUEST, errno); return -1; }
  if (st.st_size > (off_t)MAX_REQUEST_ARGS_BYTES) { fail_set(f, STEP_SERVED_REQUEST, E2BIG); return -1; }
  /* the strings, then their argv (which points into them): freed together */
  size_t size = (size_t)st.st_size, at = (size + 1 + 7) & ~(size_t)7;
  if (!(*args = malloc(at + sizeof(char *) * MAX_REQUEST_ARGS))) { fail_set(f, STEP_SERVED_REQUEST, ENOMEM); return -1; }
  ssize_t got = pread(fd, *args, size, 0);
  if (got != st.st_size) { fail_set(f, STEP_SERVED_REQUEST, got < 0 ? errno : EIO); return -1; }
  char **argv = (char **)(void *)(*args + at);
  int argc = opts_split(*args, size, argv, MAX_REQUEST_ARGS);
  if (argc < 0 || opts_parse_exec(eo, container, argc, argv, err, sizeof err) < 0) { fail_set(f, STEP_SERVED_REQUEST, EINVAL); return -1; }
  return 0;
}
