/* seccomp: a deny-list filter installed last, after no_new_privs.
 * Denied calls fail with EPERM (so tests can assert the exact errno) rather
 * than killing the program; foreign architectures (i386 via int 0x80, x32)
 * kill the process, since the filter below only knows x86_64/aarch64 numbers. */
#include "launcher.h"
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* a C library older than the kernel may lack the newest numbers (the same on x86_64 and aarch64) */
#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "warren-launch: seccomp filter not written for this architecture"
#endif

/* Why each is denied: mounts and namespaces would undo the container; ptrace and
 * process_vm_* read other processes; kexec/modules/reboot/swap/acct/quotactl
 * act on the host kernel; bpf, perf_event_open, userfaultfd and io_uring are
 * large kernel attack surfaces with a record of privilege-escalation bugs;
 * keyctl/add_key/request_key reach the kernel keyring (not namespaced);
 * open_by_handle_at is the "shocker" escape; the time setters and syslog act on
 * the host; fanotify_init would charge the owner's fanotify counters and
 * watch the shared image; io_setup reserves events from aio-max-nr, a
 * counter of the whole host (a job holding all 65,536 makes every other
 * process's io_setup fail). */
static const int denied[] = {
  __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot, __NR_ptrace,
  __NR_process_vm_readv, __NR_process_vm_writev, __NR_kexec_load,
#ifdef __NR_kexec_file_load
  __NR_kexec_file_load,
#endif
  __NR_bpf, __NR_perf_event_open, __NR_keyctl, __NR_add_key, __NR_request_key,
  __NR_userfaultfd, __NR_unshare, __NR_setns, __NR_io_uring_setup, __NR_io_uring_enter,
  __NR_io_uring_register, __NR_reboot, __NR_swapon, __NR_swapoff, __NR_init_module,
  __NR_finit_module, __NR_delete_module, __NR_acct, __NR_quotactl, __NR_open_by_handle_at,
  __NR_name_to_handle_at, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
  __NR_move_mount, __NR_open_tree, __NR_mount_setattr, __NR_settimeofday, __NR_clock_settime,
  __NR_clock_adjtime, __NR_adjtimex, __NR_syslog, __NR_vhangup, __NR_pidfd_getfd,
  __NR_lookup_dcookie, __NR_quotactl_fd, __NR_fanotify_init, __NR_io_setup,
#ifdef __NR_iopl
  __NR_iopl, __NR_ioperm,
#endif
#ifdef __NR_uselib
  __NR_uselib,
#endif
#ifdef __NR_sysfs
  __NR_sysfs,
#endif
};

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define EPERM_RET RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

/* What a system call number leads to: denied, or a check of its arguments. */
enum sc_kind { SC_DENY, SC_CLONE3, SC_CLONE, SC_SOCKET, SC_IOCTL, SC_PERSONALITY, SC_MKNOD, SC_MKNODAT, SC_MMAP, SC_SHMGET, SC_MEMFD };
struct sc_case { unsigned nr; enum sc_kind kind; };

static int sc_cmp(const void *a, const void *b) {
  unsigned x = ((const struct sc_case *)a)->nr, y = ((const struct sc_case *)b)->nr;
  return x < y ? -1 : x > y;
}

#define PUT(x) do { if (*n >= max) return -1; prog[(*n)++] = (struct sock_filter)x; } while (0)

/* The instructions for one case, run with the number already matched; each path ends in a return. */
static int emit_case(struct sock_filter *prog, int *n, int max, enum sc_kind k) {
  switch (k) {
  case SC_DENY: PUT(EPERM_RET); break;
  /* clone3 passes its flags in memory BPF cannot read: answer ENOSYS so libc falls back to clone */
  case SC_CLONE3: PUT(RET(SECCOMP_RET_ERRNO | ENOSYS)); break;
  /* clone: no new namespaces (flags are argument 0 on x86_64 and aarch64) */
  case SC_CLONE:
    PUT(LD(ARG_LO(0)));
    PUT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1));
    PUT(EPERM_RET);
    PUT(RET(SECCOMP_RET_ALLOW));
    break;
  /* socket/socketpair: no AF_VSOCK — network namespaces do not cover it, and on a
   * virtual machine it reaches the hypervisor and the VM's own vsock services */
  case SC_SOCKET:
    PUT(LD(ARG_LO(0)));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 0, 1));
    PUT(EPERM_RET);
    PUT(RET(SECCOMP_RET_ALLOW));
    break;
  /* ioctl: no TIOCSTI (typing into a terminal, CVE-2017-5226) nor TIOCLINUX */
  case SC_IOCTL:
    PUT(LD(ARG_LO(1)));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1));
    PUT(EPERM_RET);
    PUT(RET(SECCOMP_RET_ALLOW));
    break;
  /* personality: only the default persona and the query (no READ_IMPLIES_EXEC, no ADDR_NO_RANDOMIZE) */
  case SC_PERSONALITY:
    PUT(LD(ARG_LO(0)));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0));
    PUT(EPERM_RET);
    PUT(RET(SECCOMP_RET_ALLOW));
    break;
  /* mmap, shmget, memfd_create: no huge pages from the hugetlb pool. That pool
   * is the host's, reserved ahead and not charged to any memory cgroup, so a
   * job could take every huge page another service reserved. (Transparent
   * huge pages are ordinary, charged memory and stay allowed.) */
  case SC_MMAP: case SC_SHMGET: case SC_MEMFD:
    PUT(LD(ARG_LO(k == SC_MMAP ? 3 : k == SC_SHMGET ? 2 : 1)));
    PUT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, k == SC_MMAP ? MAP_HUGETLB : k == SC_SHMGET ? SHM_HUGETLB : MFD_HUGETLB, 0, 1));
    PUT(EPERM_RET);
    PUT(RET(SECCOMP_RET_ALLOW));
    break;
  /* mknod(at): fifos and sockets are fine, device nodes are not */
  case SC_MKNOD: case SC_MKNODAT:
    PUT(LD(ARG_LO(k == SC_MKNOD ? 1 : 2)));
    PUT(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0));
    PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1));
    PUT(EPERM_RET);
    PUT(RET(SECCOMP_RET_ALLOW));
    break;
  }
  return 0;
}

/* The cases C[0..CN) (sorted by number), with the number in A: a binary search
 * on the number, then a short run of equality tests; anything else is allowed.
 * A filter walked as one long list of tests costs every system call of the
 * program that many instructions, and the kernel runs it once per system call
 * number when the filter is installed (to cache what is always allowed). */
static int emit_tree(struct sock_filter *prog, int *n, int max, const struct sc_case *c, int cn) {
  if (cn <= 4) {
    for (int i = 0; i < cn; i++) {
      int at = *n;
      PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c[i].nr, 0, 0));
      if (emit_case(prog, n, max, c[i].kind) < 0) return -1;
      if (*n - at - 1 > 255) return -1;
      prog[at].jf = (unsigned char)(*n - at - 1); /* past this case's instructions */
    }
    PUT(RET(SECCOMP_RET_ALLOW));
    return 0;
  }
  int mid = cn / 2, at = *n;
  PUT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, c[mid].nr, 0, 0));
  if (emit_tree(prog, n, max, c, mid) < 0) return -1;
  if (*n - at - 1 > 255) return -1;
  prog[at].jt = (unsigned char)(*n - at - 1); /* the upper half follows the lower one */
  return emit_tree(prog, n, max, c + mid, cn - mid);
}

/* What a zygote may do that programs may not: make the namespaces and the
 * mounts of each of its children (zygote.c). Each child installs the
 * program's filter over this one before the event's code runs. */
static bool zygote_allows(int nr) { return nr == __NR_unshare || nr == __NR_mount || nr == __NR_umount2; }
/* and clone with new namespaces: a child made in one call (zygote.c, one_clone)
 * is no more than unshare and fork, which the zygote may do already */

/* Builds the filter into PROG (a zygote's: ZYGOTE); returns its length, or -1 if it does not fit. */
static int seccomp_build(struct sock_filter *prog, int max, bool zygote) {
  struct sc_case c[sizeof denied / sizeof denied[0] + 12];
  int cn = 0, k = 0;
  int *n = &k;
  for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
    if (!zygote || !zygote_allows(denied[i])) c[cn++] = (struct sc_case){ (unsigned)denied[i], SC_DENY };
  c[cn++] = (struct sc_case){ __NR_clone3, SC_CLONE3 };
  if (!zygote) c[cn++] = (struct sc_case){ __NR_clone, SC_CLONE };
  c[cn++] = (struct sc_case){ __NR_socket, SC_SOCKET };
  c[cn++] = (struct sc_case){ __NR_socketpair, SC_SOCKET };
  c[cn++] = (struct sc_case){ __NR_ioctl, SC_IOCTL };
  c[cn++] = (struct sc_case){ __NR_personality, SC_PERSONALITY };
#ifdef __NR_mknod
  c[cn++] = (struct sc_case){ __NR_mknod, SC_MKNOD };
#endif
  c[cn++] = (struct sc_case){ __NR_mknodat, SC_MKNODAT };
  c[cn++] = (struct sc_case){ __NR_mmap, SC_MMAP };
  c[cn++] = (struct sc_case){ __NR_shmget, SC_SHMGET };
  c[cn++] = (struct sc_case){ __NR_memfd_create, SC_MEMFD };
  qsort(c, (size_t)cn, sizeof c[0], sc_cmp);
  for (int i = 1; i < cn; i++) if (c[i].nr == c[i - 1].nr) return -1; /* each number once */
  PUT(LD(offsetof(struct seccomp_data, arch)));
  PUT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0));
  PUT(RET(SECCOMP_RET_KILL_PROCESS));
  PUT(LD(offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
  PUT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1)); /* x32 ABI */
  PUT(RET(SECCOMP_RET_KILL_PROCESS));
#endif
  if (emit_tree(prog, n, max, c, cn) < 0) return -1;
  return k;
}
#undef PUT

int seccomp_install(bool zygote, struct failure *f) {
  struct sock_filter prog[512];
  int n = seccomp_build(prog, 512, zygote);
  if (n < 0) { fail_set(f, STEP_SECCOMP, E2BIG); return -1; }
  struct sock_fprog fp = { .len = (unsigned short)n, .filter = prog };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) { fail_set(f, STEP_SECCOMP, errno); return -1; }
  return 0;
}
