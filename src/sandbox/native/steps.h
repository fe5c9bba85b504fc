/* Every step warren-launch can name when it fails: the "step" of its
 * {"status":"internal_error","step","errno","message"} line (docs/launcher.md,
 * "Steps", lists the same names in the same order; test/launcher/steps.test.ts
 * checks both, and that every step the TypeScript side matches on is here).
 *
 * One line each: X(IDENTIFIER, "name", "what failed"), grouped by the process
 * that reports it. A name, once reported, is kept: callers match on it. */
#ifndef WARREN_STEPS_H
#define WARREN_STEPS_H

#define WARREN_STEPS(X)                                                                                              \
  /* the command line and served requests (the launcher) */                                                          \
  X(OPTIONS, "options", "the command line, or a served request's arguments, are invalid: the message says how")      \
  X(REQUEST_TOO_LARGE, "request-too-large", "a served request's arguments are longer than 4 MiB")                    \
  X(REQUEST_READ, "request-read", "the caller's stdin ended inside a served request")                                \
  X(REQUEST_MEMFD, "request-memfd", "the request's arguments could not be put in a memfd for init")                  \
  X(STDIN_MEMFD, "stdin-memfd", "a served request's stdin could not be put in a memfd")                              \
  X(STDIN_STREAM, "stdin-stream", "a streamed execution's frames could not be read from the caller (an error, not EOF)") \
  X(CANCELLED, "cancelled", "the execution was cancelled: a cancel frame, EOF, SIGUSR1, or SIGTERM, SIGINT or SIGHUP")        \
  /* making the container (the launcher) */                                                                          \
  X(PIPE, "pipe", "a pipe could not be made")                                                                        \
  X(SOCKETPAIR, "socketpair", "init's control socket could not be made")                                             \
  X(USERNS_OWNER, "userns-owner", "as root: taking or giving back the sandbox uid around the clone")                 \
  X(CLONE_NAMESPACES, "clone-namespaces", "init could not be cloned into new user, mount, pid, ipc, uts namespaces")  \
  X(USERNS_SETGROUPS, "userns-setgroups", "rootless: writing deny to the new process's setgroups")                   \
  X(USERNS_UID_MAP, "userns-uid-map", "writing the user namespace's uid map")                                        \
  X(USERNS_GID_MAP, "userns-gid-map", "writing the user namespace's gid map")                                        \
  X(CONTAINER_START, "container-start", "init was gone before it could be told to start")                            \
  X(CONTAINER_INIT, "container-init", "init ended without reporting how the container's build went")                 \
  /* the cgroups: the container's own and each execution's (the launcher) */                                         \
  X(CGROUP_OPEN_PARENT, "cgroup-open-parent", "a --cgroup parent could not be opened")                               \
  X(CGROUP_NOT_CGROUPFS, "cgroup-not-cgroupfs", "a --cgroup parent is not a directory of a cgroup file system")       \
  X(CGROUP_MKDIR, "cgroup-mkdir", "a cgroup could not be made below its parent")                                     \
  X(CGROUP_OPEN, "cgroup-open", "a cgroup just made could not be opened")                                            \
  X(CGROUP_CONTROLLERS, "cgroup-controllers", "v2: the container's cgroup.controllers could not be read")             \
  X(CGROUP_SUBTREE_CONTROL, "cgroup-subtree-control", "v2: a controller could not be handed down to the executions")  \
  X(CGROUP_OPEN_PROCS, "cgroup-open-procs", "an execution's tasks (v1) or cgroup.procs (v2) could not be opened")     \
  X(CGROUP_SET_MEMORY_MAX, "cgroup-set-memory.max", "v2: the memory limit could not be written")                     \
  X(CGROUP_SET_MEMORY_SWAP_MAX, "cgroup-set-memory.swap.max", "v2: swap could not be turned off")                    \
  X(CGROUP_SET_MEMORY_OOM_GROUP, "cgroup-set-memory.oom.group", "v2: memory.oom.group could not be set")             \
  X(CGROUP_SET_MEMORY_LIMIT, "cgroup-set-memory.limit_in_bytes", "v1: the memory limit could not be written")        \
  X(CGROUP_SET_MEMSW_LIMIT, "cgroup-set-memory.memsw.limit_in_bytes", "v1: the memory+swap limit could not be written") \
  X(CGROUP_SET_SWAPPINESS, "cgroup-set-memory.swappiness", "v1: swappiness could not be set to 0")                   \
  X(CGROUP_SET_PIDS_MAX, "cgroup-set-pids.max", "the process limit could not be written")                            \
  X(CGROUP_SET_CPU_MAX, "cgroup-set-cpu.max", "v2: the CPU bandwidth could not be written")                          \
  X(CGROUP_SET_CPU_PERIOD, "cgroup-set-cpu.cfs_period_us", "v1: the CPU period could not be written")                \
  X(CGROUP_SET_CPU_QUOTA, "cgroup-set-cpu.cfs_quota_us", "v1: the CPU quota could not be written")                   \
  X(CGROUP_NO_MEMORY_CONTROLLER, "cgroup-no-memory-controller", "--memory-mb asked for, and no --cgroup has memory")  \
  X(CGROUP_NO_PIDS_CONTROLLER, "cgroup-no-pids-controller", "--pids asked for, and no --cgroup has pids")            \
  X(CGROUP_NO_CPU_CONTROLLER, "cgroup-no-cpu-controller", "--cpus asked for, and no --cgroup has cpu")               \
  /* a request's execution (the launcher) */                                                                         \
  X(CONTAINER_EXEC, "container-exec", "the request could not be handed to init: it is gone")                         \
  X(POLL, "poll", "waiting for the program's output and end failed")                                                 \
  X(EXEC_HELPER, "exec-helper", "the program's end was never reported: init is gone")                                \
  /* building the container (its first process, which then becomes init) */                                          \
  X(USERNS_LIMITS, "userns-limits", "the user namespace's per-user limits could not be written")                     \
  X(DUMPABLE, "dumpable", "init could not make itself not dumpable")                                                 \
  X(NETNS_THREAD, "netns-thread", "the thread that makes the network namespace could not be started or joined")      \
  X(UNSHARE_NET, "unshare-net", "the network namespace could not be made")                                           \
  X(NET_SOCKET, "net-socket", "the socket to bring the loopback up could not be made")                               \
  X(NET_LOOPBACK_UP, "net-loopback-up", "the loopback device could not be brought up")                               \
  X(OPEN_NETNS, "open-netns", "the network namespace could not be opened")                                           \
  X(SETNS_NET, "setns-net", "init could not enter the network namespace")                                            \
  X(OPEN_ROOTFS, "open-rootfs", "--rootfs could not be opened, as the sandbox user")                                 \
  X(OPEN_BIND_SOURCE, "open-bind-source", "a --ro-bind source could not be opened, as the sandbox user")             \
  X(SETHOSTNAME, "sethostname", "the hostname could not be set")                                                     \
  X(MOUNT_PRIVATE, "mount-private", "the mounts could not be made private")                                          \
  X(CHDIR_ROOTFS, "chdir-rootfs", "init could not enter --rootfs")                                                   \
  X(MOUNT_SCRATCH, "mount-scratch", "the scratch tmpfs could not be mounted or laid out")                            \
  X(MOUNT_OVERLAY, "mount-overlay", "the overlay root could not be mounted")                                         \
  X(OPEN_NEWROOT, "open-newroot", "the overlay root could not be opened")                                            \
  X(BIND, "bind", "a --ro-bind could not be mounted at its destination")                                             \
  X(MOUNT_DEV, "mount-dev", "/dev could not be mounted")                                                             \
  X(DEV_NODE, "dev-node", "a device of /dev could not be bound")                                                     \
  X(DEV_LINKS, "dev-links", "/dev/fd, stdin, stdout or stderr could not be made")                                    \
  X(BIND_SHM, "bind-shm", "/dev/shm could not be bound from the scratch")                                            \
  X(REMOUNT_DEV_RO, "remount-dev-ro", "/dev could not be made read-only")                                            \
  X(MOUNT_PROC, "mount-proc", "/proc could not be mounted (EPERM inside a container whose runtime masks /proc: the message says what to set)") \
  X(BIND_PROC, "bind-proc", "--bind-proc: the launcher's own /proc could not be bound")                               \
  X(MASK_PROC, "mask-proc", "a /proc entry about the host kernel could not be masked")                               \
  X(PROC_SYS_RO, "proc-sys-ro", "/proc/sys could not be made read-only")                                             \
  X(BIND_TMP, "bind-tmp", "/tmp could not be bound from the scratch")                                                \
  X(BIND_WORKDIR, "bind-workdir", "the work dir could not be bound from the scratch")                                \
  X(PIVOT_ROOT, "pivot-root", "pivot_root into the overlay root failed")                                             \
  X(UMOUNT_OLDROOT, "umount-oldroot", "the host's old root could not be detached")                                   \
  /* init, carrying out a request */                                                                                 \
  X(SERVED_REQUEST, "served-request", "init or the program forked ahead could not read the request handed to it")    \
  X(FORK, "fork", "init could not fork the program")                                                                 \
  X(UNPACK, "unpack", "the job's files could not be written into the work dir (a bad stream, a name that exists)")   \
  /* the program's own set-up (and init's, for the steps they share) */                                              \
  X(CGROUP_ENTER, "cgroup-enter", "the program could not enter its execution's cgroup")                              \
  X(CGROUP_NAMESPACE, "cgroup-namespace", "the program's cgroup namespace could not be made")                        \
  X(IPC_NAMESPACE, "ipc-namespace", "the program's IPC namespace could not be made")                                 \
  X(SETSID, "setsid", "the program's session could not be made")                                                     \
  X(SETGROUPS, "setgroups", "as root: the supplementary groups could not be dropped")                                \
  X(SETRESGID, "setresgid", "the inside gid could not be taken")                                                     \
  X(SETRESUID, "setresuid", "the inside uid could not be taken")                                                     \
  X(PDEATHSIG, "pdeathsig", "the parent-death signal could not be set")                                              \
  X(STDIN, "stdin", "the program's stdin could not be put in place")                                                 \
  X(STDIO, "stdio", "the program's stdout and stderr could not be put in place")                                     \
  X(CLOSE_FDS, "close-fds", "the program's other fds could not be closed")                                           \
  X(CHDIR, "chdir", "the working directory could not be entered inside the container's root")                        \
  X(RLIMIT_CORE, "rlimit-core", "RLIMIT_CORE could not be set")                                                      \
  X(RLIMIT_NOFILE, "rlimit-nofile", "RLIMIT_NOFILE (--open-files) could not be set")                                 \
  X(RLIMIT_STACK, "rlimit-stack", "RLIMIT_STACK (--stack-mb) could not be set")                                      \
  X(RLIMIT_FSIZE, "rlimit-fsize", "RLIMIT_FSIZE (--file-size-mb) could not be set")                                  \
  X(RLIMIT_CPU, "rlimit-cpu", "RLIMIT_CPU (--cpu-ms) could not be set")                                              \
  X(RLIMIT_SIGPENDING, "rlimit-sigpending", "RLIMIT_SIGPENDING could not be set")                                    \
  X(RLIMIT_MSGQUEUE, "rlimit-msgqueue", "RLIMIT_MSGQUEUE could not be set")                                          \
  X(RLIMIT_MEMLOCK, "rlimit-memlock", "RLIMIT_MEMLOCK could not be set")                                             \
  X(CAPS_BOUNDING, "caps-bounding", "the capability bounding set could not be emptied")                              \
  X(CAPS_AMBIENT, "caps-ambient", "the ambient capabilities could not be cleared")                                   \
  X(CAPS_CLEAR, "caps-clear", "the capabilities could not be cleared")                                               \
  X(NO_NEW_PRIVS, "no-new-privs", "no_new_privs could not be set")                                                   \
  X(SECCOMP, "seccomp", "the seccomp filter could not be installed")                                                 \
  X(EXECVE, "execve", "the program could not be executed: the status says which file and why (execve.c)")             \
  /* a zygote (zygote.c): the launcher's side, then its child's own set-up */                                        \
  X(ZYGOTE_SOCKET, "zygote-socket", "--zygote: the zygote's control socket could not be made")                       \
  X(ZYGOTE_RUNNING, "zygote-running", "--zygote: the container has a zygote already")                               \
  X(ZYGOTE_NOT_ALONE, "zygote-not-alone", "--zygote: the program said it is ready with other processes of its own still running; it was killed") \
  X(ZYGOTE_GONE, "zygote-gone", "--via-zygote: the container has no zygote ready (none started, or it ended)")       \
  X(ZYGOTE_FORK, "zygote-fork", "the zygote could not fork the execution's process")                                \
  X(ZYGOTE_USERNS, "zygote-userns", "the child's user namespace could not be made or mapped")                        \
  X(ZYGOTE_NAMESPACES, "zygote-namespaces", "the child's mount, pid, ipc, uts, network or cgroup namespace could not be made") \
  X(ZYGOTE_MOUNTS, "zygote-mounts", "the child's fresh /tmp, /dev/shm and work dir could not be mounted")            \
  X(ZYGOTE_ROOT_RO, "zygote-root-ro", "the child's root could not be made read-only")                               \
  X(ZYGOTE_PID1, "zygote-pid1", "the child's first process of its pid namespace could not be forked")

enum step {
  STEP_NONE, /* no failure */
#define WARREN_STEP_ID(id, name, meaning) STEP_##id,
  WARREN_STEPS(WARREN_STEP_ID)
#undef WARREN_STEP_ID
};

/* The name reported for STEP (util.c) */
const char *step_name(enum step step);

#endif
