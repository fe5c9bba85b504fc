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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

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
 * the host. */
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
  __NR_lookup_dcookie, __NR_quotactl_fd,
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

int seccomp_install(struct failure *f) {
  struct sock_filter prog[256];
  int n = 0;
#define P(x) (prog[n++] = (struct sock_filter)x)
  P(LD(offsetof(struct seccomp_data, arch)));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0));
  P(RET(SECCOMP_RET_KILL_PROCESS));
  P(LD(offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
  P(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1)); /* x32 ABI */
  P(RET(SECCOMP_RET_KILL_PROCESS));
#endif
  for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
    P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1));
    P(EPERM_RET);
  }
  /* clone3 passes its flags in memory BPF cannot read: answer ENOSYS so libc falls back to clone */
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1));
  P(RET(SECCOMP_RET_ERRNO | ENOSYS));
  /* clone: no new namespaces (flags are argument 0 on x86_64 and aarch64) */
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4));
  P(LD(ARG_LO(0)));
  P(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1));
  P(EPERM_RET);
  P(RET(SECCOMP_RET_ALLOW));
  /* socket/socketpair: no AF_VSOCK — network namespaces do not cover it, and on a
   * virtual machine it reaches the hypervisor and the VM's own vsock services */
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 0, 4));
  P(LD(ARG_LO(0)));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 0, 1));
  P(EPERM_RET);
  P(RET(SECCOMP_RET_ALLOW));
  /* ioctl: no TIOCSTI (typing into a terminal, CVE-2017-5226) nor TIOCLINUX */
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 5));
  P(LD(ARG_LO(1)));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1));
  P(EPERM_RET);
  P(RET(SECCOMP_RET_ALLOW));
  /* personality: only the default persona and the query (no READ_IMPLIES_EXEC, no ADDR_NO_RANDOMIZE) */
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 5));
  P(LD(ARG_LO(0)));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0));
  P(EPERM_RET);
  P(RET(SECCOMP_RET_ALLOW));
  /* mknod(at): fifos and sockets are fine, device nodes are not */
#ifdef __NR_mknod
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknod, 0, 6));
  P(LD(ARG_LO(1)));
  P(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1));
  P(EPERM_RET);
  P(RET(SECCOMP_RET_ALLOW));
#endif
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknodat, 0, 6));
  P(LD(ARG_LO(2)));
  P(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0));
  P(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1));
  P(EPERM_RET);
  P(RET(SECCOMP_RET_ALLOW));
  P(RET(SECCOMP_RET_ALLOW));
#undef P
  struct sock_fprog fp = { .len = (unsigned short)n, .filter = prog };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) { fail_set(f, "seccomp", errno); return -1; }
  return 0;
}
