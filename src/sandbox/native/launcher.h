/* warren-launch: shared declarations. One .c file per kernel concern;
 * main.c spells out the order of set-up. */
#ifndef WARREN_LAUNCHER_H
#define WARREN_LAUNCHER_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/resource.h>

#define MAX_BINDS 64
#define MAX_ENV 256
#define MAX_CGROUPS 8

struct bind { const char *src, *dest; bool try_only; };

/* Everything one invocation asks for, parsed from argv (opts.c). */
struct opts {
  enum { MODE_ONESHOT, MODE_HOLD, MODE_SERVED /* an exec request to a held container */ } mode;
  /* container */
  const char *rootfs, *workdir, *hostname;
  struct bind binds[MAX_BINDS]; int nbinds;
  long scratch_mb;
  uid_t uid, sandbox_uid; gid_t gid, sandbox_gid;
  /* exec */
  const char *cgroups[MAX_CGROUPS]; int ncgroups;
  long memory_mb, pids, cpu_ms, wall_ms, output_kb, open_files, file_size_mb, stack_mb;
  double cpus;
  const char *env[MAX_ENV + 1]; int nenv;
  const char *chdir;
  int status_fd;
  bool timings;
  bool unpack; /* served: the request's stdin holds the job's files (unpack.c) */
  long unpack_first; /* served: the first N bytes of the request's stdin are job files, unpacked before the program runs */
  char **argv; /* program and its arguments, NULL-terminated */
};

/* A 32-bit little-endian number at P (the served protocol's and the job-file stream's lengths) */
static inline uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* A failed set-up step: reported as {"step","errno"} and never as an exit code.
 * A failed execve also names its file, the interpreter that file asks for and
 * whether the file is in the job's scratch (execve.c); empty / false otherwise. */
struct failure { char step[48]; int err; char path[256]; char interpreter[256]; bool scratch; };

/* util.c */
void fail_set(struct failure *f, const char *step, int err);
int write_file(const char *path, const char *data);
int write_fileat(int dirfd, const char *name, const char *data);
int read_fileat(int dirfd, const char *name, char *buf, size_t size);
long long read_keyed(int dirfd, const char *file, const char *key);
int64_t now_us(void);
int write_all(int fd, const void *buf, size_t n);
int read_full(int fd, void *buf, size_t n);
int send_fds(int sock, const int *fds, int n);
int recv_fds(int sock, int *fds, int max);
int send_msg(int sock, char type, const int *fds, int n);
int recv_msg(int sock, char *type, int *fds, int max);

/* opts.c */
int opts_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen);
/* A served exec request: exec options only, on top of CONTAINER's identity and work dir. */
int opts_parse_exec(struct opts *o, const struct opts *container, int argc, char **argv, char *err, size_t errlen);

/* userns.c */
int userns_write_maps(pid_t pid, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid, gid_t outside_gid, bool privileged, struct failure *f);
int userns_become(uid_t uid, gid_t gid, bool privileged, struct failure *f);
/* as root, around the clone that makes the container: effective ids the sandbox's (userns.c) */
struct userns_owner { int securebits; };
int userns_owner_become(uid_t uid, gid_t gid, struct userns_owner *saved, struct failure *f);
int userns_owner_restore(const struct userns_owner *saved, struct failure *f);

/* mounts.c */
/* ends after pivot_root, with the cwd on the host's old root, stacked on the new one */
int mounts_setup(const struct opts *o, int rootfs_fd, const int *bind_fds, struct failure *f);
/* detach the host's old root; nothing of the host's tree is reachable after it */
int mounts_detach_old(struct failure *f);
/* unpack.c: write the files of stream IN below directory DST; 0, or -1 with errno */
int unpack_files(int in, int dst);

/* paths.c: a path the sandbox may have shaped, resolved inside the container's
 * root only (openat2 RESOLVE_IN_ROOT, never through a /proc magic link; with
 * NO_SYMLINKS, through no link at all): an fd, or -1 with errno */
int open_in_root(const char *path, int flags, bool no_symlinks);
/* Close every fd but 0-2 and KEEP[0..N) (-1 entries ignored): called before
 * any path the sandbox may have shaped is resolved, so that no fd of the
 * host's (a cgroup directory, a pipe's other end) can be reached through
 * /proc/self/fd (the class of runc's CVE-2024-21626). 0, or -1 with errno. */
int close_fds_except(const int *keep, int n);

/* net.c */
int net_loopback_up(struct failure *f);

/* cgroup.c */
struct cgroup {
  int n;
  bool entered; /* the process was forked into it (cgroup_fork) */
  struct { int dirfd; int procs_fd; bool v2, memory, pids, cpu, cpuacct; char path[4096]; } h[MAX_CGROUPS];
};
/* One-shot: the execution's cgroup PARENTS/warren-<pid>, made and limited */
int cgroup_create(struct cgroup *cg, const struct opts *o, struct failure *f);
/* A held container's own cgroup, PARENTS/warren-<pid>, under which every
 * execution's cgroup is made (v2: with the controllers handed down to them) */
int cgroup_make_job(struct cgroup *job, const char *const *parents, int nparents, struct failure *f);
/* One execution's cgroup, JOB/NAME (or PARENTS/warren-<pid> one-shot), no limits yet */
int cgroup_make_in(struct cgroup *cg, const struct cgroup *job, const char *name, struct failure *f);
int cgroup_limit(struct cgroup *cg, const struct opts *o, struct failure *f);
/* The job cgroup's bound while execution O runs: O's memory plus the scratch
 * layer plus a little for init's forks, and O's processes, so that nothing
 * the job's executions leave behind can add up past it */
int cgroup_limit_job(struct cgroup *job, const struct opts *o, struct failure *f);
int cgroup_enter(const struct cgroup *cg);           /* in the child, before exec */
void cgroup_close_fds(struct cgroup *cg);            /* in the child, once entered */
/* Handing an execution's cgroups to the container's init: the file to enter
 * each by (v1 tasks, v2 cgroup.procs, opened here), and on v2 first the
 * directory itself (for CLONE_INTO_CGROUP). Returns how many fds. */
int cgroup_handoff_fds(const struct cgroup *cg, int *fds);
void cgroup_from_fds(struct cgroup *cg, const int *fds, int n);
/* fork(), born into the v2 cgroup when there is one (clone3 CLONE_INTO_CGROUP) */
pid_t cgroup_fork(struct cgroup *cg);
long long cgroup_cpu_us(const struct cgroup *cg);    /* -1 when unknown */
long long cgroup_peak_bytes(const struct cgroup *cg);
long long cgroup_oom_kills(const struct cgroup *cg);
void cgroup_kill_all(const struct cgroup *cg);
void cgroup_destroy(struct cgroup *cg);

/* seccomp.c */
int seccomp_install(struct failure *f);

/* rlimits.c */
int rlimits_apply(const struct opts *o, struct failure *f);

/* caps.c */
int caps_drop_all(struct failure *f);
int caps_drop_bounding(struct failure *f);

/* container.c: the container's init and its life */
struct container { pid_t init; int ctl; /* socket to init */ };
/* MEANWHILE(ARG, F), when given, runs in the launcher while init sets up the container */
int container_create(const struct opts *o, struct container *c, int (*meanwhile)(void *, struct failure *), void *arg, struct failure *f);
void container_destroy(struct container *c);

/* exec.c: one program in a container */
struct exec_result {
  const char *status;  /* ok, runtime_error, time_limit_exceeded, ... */
  int exit_code, signal; bool exited;
  double cpu_ms, wall_ms; long long memory_kb; bool oom_killed;
  long long stdout_bytes, stderr_bytes; bool output_truncated, stdout_truncated, stderr_truncated;
};
/* What the process that forked the program reports on the wait pipe: first
 * the program's pid (status 0), then its wait status and rusage. */
struct waited { pid_t pid; int status; struct rusage ru; };
/* P: set up and exec the program; never returns (exec.c) */
/* RELEASE >= 0 (one-shot): resolve nothing and exec only after a byte is read from it */
void exec_program(const struct opts *o, struct cgroup *cg, int out, int err, int failfd, int release, bool priv);
/* its two halves: what does not depend on the request (cgroup, cgroup and
 * IPC namespaces, session, identity; 0 or -1 with F set), and the rest, from
 * the working directory to exec (stdio already in place; never returns) */
int exec_enter(const struct opts *o, struct cgroup *cg, bool priv, struct failure *f);
void exec_finish(const struct opts *o, int failfd, int release, bool priv);
/* execve.c: exec ARGV as execvp(3) finds it, without its /bin/sh retry on
 * ENOEXEC; returns only on failure, with F set (step "execve" and what failed) */
void execve_program(char *const *argv, const char *workdir, struct failure *f);
/* a program made ahead (serve.c): forked by init into the next execution's
 * cgroups, set up as far as exec_enter, waiting on SOCK for its request */
void forked_ahead(const struct opts *container, struct cgroup *cg, int sock, bool priv);
/* one-shot, in the container's init: receive the execution's fds, fork P, report on it (container.c) */
/* CG: the execution's cgroups when already made (cgroup_create), else NULL: made here; removed here either way */
/* SV: a served request (hold mode): its stdin, its request for init, and the
 * framed channel its output and status go to (serve.c); NULL otherwise. */
struct served {
  int stdin_fd, request_fd, out_fd, cancel_fd;
  /* >= 0: the program was forked ahead (serve.c): its request socket, its wait pipe and pidfd */
  int ahead_sock, ahead_wait, ahead_pidfd;
  bool cancelled_by_signal;
  struct cgroup *used; /* set: the execution's cgroups are left to the caller (emptied), to remove after answering */
};
int exec_run(const struct opts *o, const struct container *c, struct cgroup *cg, struct served *sv, struct exec_result *r, struct failure *f, int64_t *timing);
/* one-shot, while init builds the container: make the execution's pipes and send
 * them with CG's files to init; exec_run then uses them */
int exec_handover(const struct opts *o, const struct container *c, const struct cgroup *cg, struct failure *f);

/* serve.c: hold mode's exec requests (docs/launcher.md, "Served execs") */
int serve(const struct opts *o, struct container *c);
int frame_write(int fd, char type, const void *data, size_t n);
/* in the container's init: fork the program of one served request; returns its wait pipe, or -1 */
int served_fork(const struct opts *container, int ctl, const int *fds, int nfds, bool priv, pid_t *pid);
/* in the container's init, after forking P: its pidfd to the launcher on CTL (a
 * message of TYPE, after FD when FD >= 0; always sent, the launcher waits for
 * it), then its pid on the wait pipe WT (container.c) */
void report_forked(int ctl, char type, int fd, int wt, pid_t p);
/* in the container's init: fork a program ahead of its request (serve.c); returns its wait pipe, or -1 */
int ahead_fork(const struct opts *container, int ctl, const int *fds, int nfds, bool priv, pid_t *pid);

/* status.c */
void status_result(int fd, const struct exec_result *r, const int64_t *timings, int ntimings);
/* MESSAGE: NULL for the errno's own (strerror) */
void status_failure(int fd, const struct failure *f, const char *message);
/* the same lines, formatted into BUF (at most SIZE bytes, newline included); returns the length */
int status_result_str(char *buf, size_t size, const struct exec_result *r, const int64_t *timings, int ntimings);
int status_failure_str(char *buf, size_t size, const struct failure *f, const char *message);
void status_ready(int fd, pid_t pid);

#endif
