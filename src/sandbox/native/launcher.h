/* warren-launch: shared declarations. main.c spells out the order of set-up.
 *
 * The files, by the process that runs their code:
 *   the launcher (host namespaces, never inside the container)
 *     main.c       the one list of the set-up order; one-shot and hold
 *     container.c  making the container (clone, maps, init's report) and ending it
 *     request.c    one request: its cgroups, the hand-over, output, limits, accounting
 *     serve.c      the served protocol: requests on stdin, answers in frames on stdout
 *     status.c     the status line
 *   the container's first process (container.c: builds the container, step by
 *   step, then becomes init)
 *     init.c       pid 1: reaps, and carries out the launcher's messages: fork a
 *                  request's program, fork one ahead, write the job's files
 *   the program's process, from its fork by init to its execve
 *     program.c    its set-up, one step a line
 *   per kernel concern, called from the above: userns.c, net.c, mounts.c,
 *   paths.c, unpack.c, cgroup.c, rlimits.c, caps.c, seccomp.c, execve.c;
 *   opts.c parses options, util.c has small helpers.
 */
#ifndef WARREN_LAUNCHER_H
#define WARREN_LAUNCHER_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <signal.h>
#include <sys/resource.h>
#include "steps.h"

#define MAX_BINDS 64
#define MAX_ENV 256
#define MAX_CGROUPS 8
#define MAX_REQUEST_ARGS_BYTES (4u << 20)
#define MAX_REQUEST_ARGS 4096

/* Every message type, one byte each, by channel (docs/launcher.md, "Messages"). */
enum msg {
  /* the served protocol, caller → launcher's stdin: a request's header type */
  MSG_EXEC = 'x',        /* run a program: exec options, "--", program and arguments; then its stdin */
  MSG_CANCEL = 'k',      /* cancel the execution running; ignored when none is */
  /* the same channel, during an execution with --stdin-stream (its stdin is a pipe) */
  MSG_STDIN = 'i',       /* bytes for the program's stdin */
  MSG_STDIN_END = 'z',   /* the end of its stdin: the pipe is closed, the program reads EOF */
  MSG_SIGNAL = 'g',      /* a signal (payload: its number, 32-bit) for every process of the execution, in order with the stdin frames */
  /* the served protocol, launcher's stdout → caller: an answer's frames */
  MSG_STDOUT = 'o',      /* bytes of the program's stdout */
  MSG_STDERR = 'e',      /* bytes of the program's stderr */
  MSG_STATUS = 's',      /* the status line: the last frame of an answer */
  MSG_USAGE = 'u',       /* --usage-frames: the execution's cgroup, read just before the stdout frame that comes next, at most once a millisecond (int64 LE: CPU µs, peak bytes, OOM kills; -1 unread) */
  /* launcher → init, on the control socket, with fds (SCM_RIGHTS) */
  MSG_FORK = 'F',        /* fork a request's program. fds: stdout, stderr, failure pipe, wait pipe, stdin, the request, its cgroup's files */
  MSG_FORK_AHEAD = 'A',  /* fork a program ahead of its request. fds: wait pipe, its request socket, the next execution's cgroup files */
  MSG_UNPACK = 'U',      /* write job files into the work dir. fds: the stream, the pipe its outcome (a struct failure) goes to */
  /* init → launcher, on the control socket */
  MSG_FORKED = 'f',      /* MSG_FORK's program was forked (its pid follows on its wait pipe). fds: its pidfd, if pidfd_open worked */
  MSG_AHEAD_READY = 'a', /* MSG_FORK_AHEAD's program was forked (its pid follows on its wait pipe). fds: its pidfd, if pidfd_open worked */
  MSG_AHEAD_FAILED = 'n',/* MSG_FORK_AHEAD's program could not be forked */
  /* launcher → the program forked ahead, on its request socket */
  MSG_RUN = 'r',         /* its request. fds: stdout, stderr, failure pipe, stdin, the request */
};
/* The fds of MSG_FORK and MSG_RUN, in order */
enum { FD_STDOUT, FD_STDERR, FD_FAIL, FD_WAIT, FD_STDIN, FD_REQUEST, FD_CGROUPS };
enum { RUN_STDOUT, RUN_STDERR, RUN_FAIL, RUN_STDIN, RUN_REQUEST, RUN_FDS };

struct bind { const char *src, *dest; bool try_only; };

/* Everything one invocation asks for, parsed from argv (opts.c); a served
 * request's exec options are parsed on top of the container's. */
struct opts {
  enum { MODE_ONESHOT, MODE_HOLD, MODE_SERVED /* an exec request to a held container */ } mode;
  /* container */
  const char *rootfs, *workdir, *hostname;
  struct bind binds[MAX_BINDS]; int nbinds;
  long scratch_mb;
  uid_t uid, sandbox_uid; gid_t gid, sandbox_gid;
  const char *cgroups[MAX_CGROUPS]; int ncgroups;
  int status_fd;
  /* exec */
  long memory_mb, pids, cpu_ms, wall_ms, output_kb, open_files, file_size_mb, stack_mb;
  double cpus;
  const char *env[MAX_ENV + 1]; int nenv;
  const char *chdir;
  bool timings;
  bool stdin_stream; /* served: the program's stdin is a pipe fed by MSG_STDIN frames while it runs */
  bool usage_frames; /* served: a stdout frame comes after a MSG_USAGE frame (in the same write), at most one a millisecond */
  bool unpack; /* served: the request's stdin holds the job's files (unpack.c) */
  bool bind_proc;   /* container: bind the launcher's own /proc instead of a fresh procfs (mounts.c) */
  bool zygote_host; /* container: it may hold a zygote (its user namespace allows the namespaces a zygote's child makes; zygote.c) */
  bool zygote;      /* served: start the program as the container's zygote: answered once it says it is ready (zygote.c) */
  bool via_zygote;  /* served: the execution is a child of the container's zygote, not a program of init's */
  long unpack_first; /* served: the first N bytes of the request's stdin are job files, unpacked before the program runs */
  char **argv; /* program and its arguments, NULL-terminated */
  /* one-shot: the command line's exec options, "--" and the program: its one request */
  const char **request; int nrequest;
};

/* A 32-bit little-endian number at P (the served protocol's and the job-file stream's lengths) */
static inline uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* What a container was built without, where the loss is stated (docs/launcher.md,
 * "Inside a container"; SECURITY.md): reported by init with its build, in the
 * ready line and a one-shot's status line as "degraded" */
enum degraded {
  DEGRADED_HOSTNAME = 1, /* sethostname was refused: the UTS namespace keeps the outer hostname */
  DEGRADED_PROC = 2,     /* --bind-proc: /proc is the launcher's own, bound, not a fresh procfs */
  DEGRADED_USERNS_LIMITS = 4, /* --bind-proc where /proc/sys is read-only: the namespace's per-user limits unset (userns.c) */
};

/* A failed set-up step: reported as {"step","errno"} and never as an exit code.
 * A failed execve also names its file, the interpreter that file asks for and
 * whether the file is in the job's scratch (execve.c); empty / false otherwise.
 * It crosses from init and the program to the launcher as bytes on a pipe;
 * init's report of a container built is one with STEP_NONE, and DEGRADED set. */
struct failure { enum step step; int err; char path[256]; char interpreter[256]; bool scratch; unsigned degraded; };
/* written by a zygote's library (glibc) and read by the launcher (possibly musl): its layout may not depend on the C library */
_Static_assert(sizeof(struct failure) == 528, "struct failure is a wire format");

/* util.c */
void fail_set(struct failure *f, enum step step, int err);
int write_file(const char *path, const char *data);
int write_fileat(int dirfd, const char *name, const char *data);
int read_fileat(int dirfd, const char *name, char *buf, size_t size);
long long read_keyed(int dirfd, const char *file, const char *key);
long long keyed_value(char *buf, const char *key);
int64_t now_us(void);
int write_all(int fd, const void *buf, size_t n);
int read_full(int fd, void *buf, size_t n);
/* a message of TYPE with fds FDS[0..N) on a unix socket; recv: how many fds, -1 on error or EOF */
int send_msg(int sock, enum msg type, const int *fds, int n);
int recv_msg(int sock, enum msg *type, int *fds, int max);
void close_fds(const int *fds, int n);

/* opts.c */
int opts_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen);
/* A served exec request: exec options only, on top of CONTAINER's identity and work dir. */
int opts_parse_exec(struct opts *o, const struct opts *container, int argc, char **argv, char *err, size_t errlen);
/* A request's arguments, N bytes of NUL-terminated strings, split into a
 * NULL-terminated ARGV of at most MAX entries; its count, or -1 when malformed */
int opts_split(char *buf, size_t n, char **argv, int max);
/* Inside the container: the request memfd FD parsed on top of CONTAINER into
 * EO; *ARGS holds its strings (free it). 0, or -1 with F set (served-request). */
int opts_read_request(int fd, const struct opts *container, struct opts *eo, char **args, struct failure *f);

/* zygote.c, in the shared library a zygote loads (libwarren-zygote.so): the
 * zygote's side. The launcher's side: request.c (hand-over, readiness), serve.c. */
int warren_zygote_next(int ctl);

/* userns.c */
int userns_write_maps(pid_t pid, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid, gid_t outside_gid, bool privileged, struct failure *f);
int userns_become(uid_t uid, gid_t gid, bool privileged, struct failure *f);
bool userns_host_root(void);
/* as root, around the clone that makes the container: effective ids the sandbox's */
struct userns_owner { int securebits; };
int userns_owner_become(uid_t uid, gid_t gid, struct userns_owner *saved, struct failure *f);
int userns_owner_restore(const struct userns_owner *saved, struct failure *f);
/* in the container's init: the namespace's own per-user limits */
int userns_set_limits(bool zygote_host, bool bind_proc, struct failure *f);

/* net.c: the network namespace, made on a thread of init while it builds the
 * mounts (the thread writes J), then entered by init */
int net_loopback_up(struct failure *f);
struct netns_job { pthread_t t; int fd; struct failure f; };
int netns_start(struct netns_job *j, struct failure *f);
int netns_enter(struct netns_job *j, struct failure *f);

/* mounts.c */
/* ends after pivot_root, with the cwd on the host's old root, stacked on the new one */
int mounts_setup(const struct opts *o, int rootfs_fd, const int *bind_fds, struct failure *f);
/* detach the host's old root; nothing of the host's tree is reachable after it */
int mounts_detach_old(struct failure *f);
/* The /proc below ROOT (an fd of the directory holding it) with the entries
 * about the host masked (NULL_FD: an empty file to bind over files) and
 * /proc/sys read-only: the container's, and a zygote child's own. */
int mounts_mask_proc(int root, int null_fd, struct failure *f);
/* Flags a remount inside a user namespace must keep, of the mount FD is on:
 * the kernel locks them (MNT_LOCK_*); nosuid and nodev every mount of ours has */
unsigned long mounts_locked_flags(int fd);
/* A zygote host's unreachable, unmasked procfs lies below this (mounts.c) */
#define ZYGOTE_PROC_DIR ".warren-zygote"
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

/* cgroup.c */
struct cgroup {
  int n;
  bool entered; /* the process was forked into it (cgroup_fork) */
  struct {
    int dirfd, procs_fd;
    bool v2, memory, pids, cpu, cpuacct, memsw; /* its version, and the controllers' files it has */
    long long memory_limit;                     /* v1: the last limit written (LLONG_MAX: none; -2: unknown, read it) */
    long long own_memory, own_pids;             /* a container's own cgroup: the bounds last written in full (-2: none yet) */
    /* what cgroup_limit last wrote here in full: memory bytes, pids, CPU quota µs (-1: nothing, the
     * kernel's defaults; -2: not known). An execution's cgroup limited ahead with the limits the next
     * request is likely to ask for (the last one's) is not written again when it does. */
    long long set_memory, set_pids, set_cpu;
    /* the statistics files read during and after an execution (CPU time, peak memory, OOM kills), each
     * opened on its first reading and kept for the next: the fd plus one (0: not opened; a copy made by
     * memset or a struct copy of a cgroup that has none is right as it is) */
    int stat1[3];
    char path[4096];
  } h[MAX_CGROUPS];
};
/* A container's own cgroup, PARENTS/warren-<pid>. FLAT: its first execution
 * runs in it (its files to enter it by opened); else every execution's
 * cgroup is made below it (v2: with the controllers handed down to them) */
int cgroup_make_own(struct cgroup *own, const char *const *parents, int nparents, bool flat, struct failure *f);
/* After the first execution ran in OWN (and OWN is empty): its CPU quota
 * lifted, and from here on executions' cgroups are made below it (v2: the
 * controllers handed down) */
int cgroup_split_own(struct cgroup *own, struct failure *f);
/* One execution's cgroup, OWN/NAME, no limits yet */
int cgroup_make_in(struct cgroup *cg, const struct cgroup *own, const char *name, struct failure *f);
int cgroup_limit(struct cgroup *cg, const struct opts *o, struct failure *f);
/* The same with the limits given: MEMORY_MB, PIDS, CPUS (0: none) */
int cgroup_limits(struct cgroup *cg, long memory_mb, long pids, double cpus, struct failure *f);
/* The container cgroup's bound while execution O runs: O's memory plus the
 * scratch layer plus a little for init's forks, and O's processes, so that
 * nothing the container's executions leave behind can add up past it */
int cgroup_limit_own(struct cgroup *own, const struct opts *o, long extra_mb, long extra_pids, struct failure *f);
int cgroup_enter(const struct cgroup *cg);           /* in the program, before exec */
void cgroup_close_fds(struct cgroup *cg);            /* in the program, once entered */
/* Handing an execution's cgroups to the container's init: the file to enter
 * each by (v1 tasks, v2 cgroup.procs, opened here), and on v2 first the
 * directory itself (for CLONE_INTO_CGROUP). Returns how many fds. */
int cgroup_handoff_fds(const struct cgroup *cg, int *fds);
void cgroup_from_fds(struct cgroup *cg, const int *fds, int n);
/* fork(), born into the v2 cgroup when there is one (clone3 CLONE_INTO_CGROUP);
 * *REFUSED remembers that this process may not (as root: a root-owned cgroup) */
pid_t cgroup_fork(struct cgroup *cg, bool *refused);
/* an execution's usage, -1 when unknown (each file kept open for the next reading: cgroup_close_stats) */
long long cgroup_cpu_us(struct cgroup *cg);
long long cgroup_peak_bytes(struct cgroup *cg);
long long cgroup_oom_kills(struct cgroup *cg);
void cgroup_close_stats(struct cgroup *cg);
void cgroup_kill_all(const struct cgroup *cg);
/* How many processes CG holds now (its first hierarchy's cgroup.procs); -1 when unknown */
int cgroup_count(const struct cgroup *cg);
/* Sends SIG to every process of CG once (those listed now) */
void cgroup_signal_all(const struct cgroup *cg, int sig);
void cgroup_destroy(struct cgroup *cg);

/* seccomp.c: the program's filter; a zygote's (ZYGOTE) also lets it make the
 * namespaces and mounts of its children, which install the program's on top */
int seccomp_install(bool zygote, struct failure *f);

/* rlimits.c */
int rlimits_apply(const struct opts *o, struct failure *f);

/* caps.c */
int caps_drop_all(struct failure *f);
int caps_drop_bounding(struct failure *f);

/* execve.c: exec ARGV as execvp(3) finds it, without its /bin/sh retry on
 * ENOEXEC; returns only on failure, with F set (step "execve" and what failed) */
void execve_program(char *const *argv, const char *workdir, struct failure *f);

/* What the process that forked a program reports on its wait pipe: first the
 * program's pid (status 0), then its wait status and what its rusage says.
 * Fixed-size fields, so that the bytes mean the same whichever C library wrote
 * them: the launcher may be linked against musl while a zygote's library is
 * glibc's, and their struct rusage differ in size. */
struct waited { int32_t pid; int32_t status; int64_t cpu_us; int64_t maxrss_kb; };
/* util.c: wait4(PID, OPTIONS) into W (pid, status, CPU time and peak RSS);
 * returns what wait4 returned */
pid_t wait_into(pid_t pid, int options, struct waited *w);
/* util.c: strerror(E) in glibc's words whichever C library the launcher has
 * (musl's differ for some: "Out of memory", "Symbolic link loop"), so that a
 * status line's message does not depend on the build */
const char *errno_text(int e);
_Static_assert(sizeof(struct waited) == 24, "struct waited is a wire format: fixed-size fields only");

/* program.c: one program's process, from its fork by init to its execve */
struct program {
  const struct opts *o;  /* its options: the request's; forked ahead, the container's until its request comes */
  struct opts request;   /* forked ahead: its request's options, once it came */
  struct cgroup cg;      /* its execution's cgroup, to enter */
  int sock;              /* forked ahead: where its request comes (MSG_RUN); else -1 */
  int in, out, err, fail;/* its stdin, stdout, stderr and failure pipe (forked ahead: from its request) */
  bool priv;             /* the launcher runs as root */
};
/* Sets the program up, one step a line, and execs it; never returns */
void program_main(struct program *p);

/* init.c: the container's pid 1 once it is built */
#define MAX_RUNNING 16
struct init {
  const struct opts *o;  /* the container's options */
  int ctl;               /* the launcher's messages; EOF: the launcher is gone */
  bool priv;
  bool clone_into_refused; /* cgroup_fork's memory */
  /* programs forked and not reaped yet, with the wait pipe each one's end goes to */
  struct { pid_t pid; int wt; } running[MAX_RUNNING];
};
/* Once the container is built (the host's old root detached), before init
 * reports it: what the launcher has sent meanwhile, carried out (a program
 * forked ahead; a one-shot's request already waits on its socket) */
void init_take_waiting(struct init *in);
/* Carries out the launcher's messages and reaps, until the launcher is gone; never returns */
void init_main(struct init *in);

/* container.c: the launcher's side of a container */
struct container {
  pid_t init;            /* the container's init, in the launcher's pid namespace */
  int ctl;               /* init's control socket (enum msg) */
  int report;            /* init's report of its build (a struct failure), until read */
  /* with --cgroup: the container's own cgroup, and the next execution's below it, made ahead */
  struct cgroup own, next;
  unsigned seq;          /* executions' cgroups are e1, e2, ... */
  /* FLAT: the next execution runs in the container's own cgroup itself (the
   * first, in a container that is no zygote host); SPLIT: executions' cgroups
   * are made below it (from the start in a zygote host, else from the second
   * execution on). Neither: the first has ended, no second has come. */
  bool flat, split;
  /* the program forked ahead into NEXT, waiting for its request (request.c):
   * asked for (its request socket and wait pipe kept: a request may be sent
   * to it already), then active once init has answered (its pidfd) */
  /* a program forked ahead into the next cgroup: by init, or (ZYGOTE) a child of the container's zygote */
  struct { bool asked, active, zygote; int sock, wait, pidfd; } ahead;
  /* the container's zygote, once one said it is ready (zygote.c): its control
   * socket, its wait pipe (readable once it ended), its execution's cgroup
   * (kept until the container ends) and what it may use, which the
   * container's own bound adds to each execution's */
  struct { int sock, wait; struct cgroup cg; long memory_mb, pids; } zygote;
  /* the last request's limits (in a cgroup of its own), written into the next execution's cgroup when
   * it is made ahead: the program ahead is set up under them, and a request with the same (a
   * function's every invocation, a judge's every test) writes none */
  struct { bool set; long memory_mb, pids; double cpus; } last_limits;
  unsigned degraded;     /* enum degraded: init's report says what it was built without */
};
/* clone init into new namespaces, write its maps and let it build the container */
int container_start(const struct opts *o, struct container *c, struct failure *f);
/* the container's own cgroup (the first execution's; a zygote host's: and the first's below it), while init builds */
int container_cgroups(const struct opts *o, struct container *c, struct failure *f);
/* the next execution's cgroup, below the container's own (when it has one, and the first has run in it: that level made first) */
int container_next_cgroup(struct container *c, struct failure *f);
/* init's report: 0 when the container is built, else -1 with init's failing step */
int container_wait(struct container *c, struct failure *f);
/* close the launcher's ends of the program forked ahead (used, or killed with its cgroup) */
void container_drop_ahead(struct container *c);
/* kill init (and so everything in the container), reap it, remove the cgroups */
void container_destroy(struct container *c);

/* request.c: one request, the launcher's side */
struct exec_result {
  const char *status;  /* ok, runtime_error, time_limit_exceeded, ... */
  int exit_code, signal; bool exited;
  double cpu_ms, wall_ms; long long memory_kb; bool oom_killed;
  long long stdout_bytes, stderr_bytes; bool output_truncated, stdout_truncated, stderr_truncated;
  unsigned degraded; /* a one-shot's: enum degraded, its container's */
};
/* The caller's frames on the served launcher's stdin, as far as they have
 * been read: a 9-byte header (its type and two 32-bit lengths) read HGOT
 * bytes so far, then LEFT bytes of its payload (the two lengths' sum). A
 * streamed execution reads them while it runs; serve() skips what is left of
 * them once it has ended, and the frames that come after it. */
struct caller { unsigned char h[9]; int hgot; uint64_t left; enum msg type; unsigned char arg[4]; int argot; };
/* Where an execution's output goes: the served protocol's frames on FD
 * (served), or the launcher's own stdout and stderr (one-shot, FD -1) */
struct sink { int fd; };
/* One execution in flight */
struct request {
  struct opts eo;        /* its exec options, on top of the container's */
  const char *args; uint32_t arglen; /* its arguments as sent (NUL-terminated strings) */
  int in;                /* the program's stdin */
  int cancel;            /* served: the caller's stdin; anything readable here cancels it, unless streamed; else -1 */
  struct caller *from;   /* served: the caller's frames as far as read (a streamed execution reads them) */
  int stream;            /* --stdin-stream: the launcher's end of the program's stdin pipe (non-blocking); else -1 */
  struct cgroup cg;      /* its cgroup (the container's next), removed by request_end */
  bool in_own;           /* CG is the container's own (its first execution's): emptied by request_end, not removed */
  bool ahead;            /* handed to the program forked ahead */
  bool zygote;           /* handed to the container's zygote (--via-zygote) */
  int zygote_sock;       /* --zygote: the launcher's end of the new zygote's control socket, until it is ready; else -1 */
  bool zygote_ready;     /* --zygote: it said it is ready: serve.c keeps it (its socket, wait pipe and cgroup) */
  int req;               /* its arguments in a memfd, for init or the program ahead */
  int out[2], err[2], fail[2], wt[2];
  int pidfd;             /* the program's, from init */
  int sfd;               /* SIGTERM, SIGINT, SIGHUP */
  int64_t t0, started, exec_us; /* the program's clock; its successful execve; hand-over to drained */
  bool cancelled_by_signal;
  int parity;            /* served: the parity of its ordinal among the MSG_EXEC requests (which relayed signals are its own) */
};
/* An empty request, every fd -1: the caller then sets eo, args, arglen, in, cancel */
void request_init(struct request *q);
/* Request Q's arguments in a memfd, its limits into its execution's cgroup
 * (the container's next, from here on the request's). 0, or -1 with F set. */
int request_prepare(struct container *c, struct request *q, struct failure *f);
/* Its pipes, and Q handed over: to the program forked ahead (or asked for), or
 * to init. 0, or -1 with F. */
int request_start(struct container *c, struct request *q, struct failure *f);
/* Q was handed to a program ahead that init could not fork: to init instead */
int request_restart(struct container *c, struct request *q, struct failure *f);
/* The signals that cancel an execution, on a signalfd (served: before the hand-over) */
void request_signals(struct request *q);
/* Drain its output to TO, enforce its limits, account for it. LAST: the
 * container ends with it (killed as soon as the program has). 0 with R, or -1 with F. */
int request_finish(struct container *c, struct request *q, const struct sink *to, bool last, struct exec_result *r, struct failure *f);
/* Close what is left of it and remove its cgroup (after its answer) */
void request_end(struct container *c, struct request *q);
/* The job's files of stream FILES written into the work dir by init. 0, or -1 with F set */
int request_unpack(struct container *c, int files, struct failure *f);
/* Relayed signals (docs/launcher.md, "Signals"): while a streamed execution
 * runs, the caller's real-time signal RELAY_BASE + 15 * parity + n asks the
 * launcher to send signal n (1..15) to the program, out of band (its MSG_SIGNAL
 * frame could wait behind stdin the program does not read). PARITY is that of
 * the execution's ordinal among the MSG_EXEC requests: a relayed signal meant
 * for the execution before is told apart from one for this one. */
#define RELAY_BASE 34
#define RELAY_SIGNALS 15
/* Adds every relayed signal to SET (none when the C library's real-time range does not hold them) */
void relay_sigaddset(sigset_t *set);
/* The signal N a relayed signal SIGNO asks for, and the PARITY of its execution; 0 when SIGNO is none */
int relay_of(int signo, int *parity);

/* A program forked ahead into the next cgroup: asked of init (MSG_FORK_AHEAD),
 * then init's answer taken (MSG_AHEAD_READY or MSG_AHEAD_FAILED), which comes
 * once the container is built */
void request_ask_ahead(struct container *c);
void request_take_ahead(struct container *c);
/* After an answer: the next execution's cgroup, and a program forked ahead into it */
void request_prepare_next(struct container *c);
/* A frame of the served protocol on FD: TYPE, the 32-bit length, DATA. FD
 * may be non-blocking (served: the launcher's stdout): it waits until all is
 * written. */
int frame_write(int fd, enum msg type, const void *data, size_t n);

/* serve.c: hold mode's requests (docs/launcher.md, "Served execs"); the launcher's exit code */
int serve(const struct opts *o, struct container *c);

/* status.c */
void status_result(int fd, const struct exec_result *r, const int64_t *timings, int ntimings);
/* MESSAGE: NULL for the errno's own (strerror) */
void status_failure(int fd, const struct failure *f, const char *message);
/* the same lines, formatted into BUF (at most SIZE bytes, newline included); returns the length */
int status_result_str(char *buf, size_t size, const struct exec_result *r, const int64_t *timings, int ntimings);
int status_failure_str(char *buf, size_t size, const struct failure *f, const char *message);
void status_ready(int fd, pid_t pid, unsigned degraded);
/* What to do about failure F, when the launcher knows (a refused fresh procfs); else NULL */
const char *status_hint(const struct failure *f);

#endif
