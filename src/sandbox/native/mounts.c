/* Filesystem: the container's root is an overlay whose lower layer is the
 * read-only image and whose upper layer lives on a size-limited tmpfs (the
 * scratch disk). Writes copy up into the scratch and vanish with the sandbox.
 *
 * Every mount point inside the new root is reached by walking one component
 * at a time with O_NOFOLLOW, and mounted through /proc/self/fd: an image is
 * untrusted data, and a symlink planted in it must never redirect a mount
 * (the class of runc's CVE-2021-30465).
 */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STAGE "/tmp"               /* private to our mount namespace: shadows nothing on the host */
#define NEWROOT STAGE "/root"

static char *fdpath(int fd, char buf[32]) { snprintf(buf, 32, "/proc/self/fd/%d", fd); return buf; }

/* Open (creating if missing) the mount point PATH below root fd ROOT, without following
 * any symlink. is_dir picks a directory or an empty file as the last component. */
static int open_mountpoint(int root, const char *path, bool is_dir, int *parent_out, char *last, size_t lastlen) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) { errno = ENAMETOOLONG; return -1; }
  int dir = dup(root);
  if (dir < 0) return -1;
  char *save = NULL, *comp = strtok_r(buf, "/", &save);
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (!strcmp(comp, "..") || !strcmp(comp, ".")) { close(dir); errno = EINVAL; return -1; }
    int fd;
    if (next || is_dir) {
      if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST) { close(dir); return -1; }
      fd = openat(dir, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    } else {
      fd = openat(dir, comp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0 && (errno == EISDIR || errno == EACCES || errno == EROFS)) fd = openat(dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) { close(dir); return -1; }
    if (!next) {
      if (parent_out) { *parent_out = dir; snprintf(last, lastlen, "%s", comp); } else close(dir);
      return fd;
    }
    close(dir);
    dir = fd;
    comp = next;
  }
  /* PATH was "/": the root itself */
  if (parent_out) { *parent_out = -1; snprintf(last, lastlen, "."); }
  return dir;
}

unsigned long mounts_locked_flags(int fd) {
  struct statvfs sv;
  unsigned long fl = 0;
  if (fstatvfs(fd, &sv) == 0) {
    if (sv.f_flag & ST_NOEXEC) fl |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) fl |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) fl |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) fl |= MS_RELATIME;
  }
  return fl;
}

/* Bind SRCFD read-only at DEST below ROOT. */
static int bind_ro(int root, int srcfd, const char *dest, struct failure *f, enum step step) {
  struct stat st;
  char a[32], b[32], last[256];
  int parent;
  if (fstat(srcfd, &st) < 0) { fail_set(f, step, errno); return -1; }
  int mp = open_mountpoint(root, dest, S_ISDIR(st.st_mode), &parent, last, sizeof last);
  if (mp < 0) { fail_set(f, step, errno); return -1; }
  if (mount(fdpath(srcfd, a), fdpath(mp, b), NULL, MS_BIND | MS_REC, NULL) < 0) {
    fail_set(f, step, errno); close(mp); if (parent >= 0) close(parent); return -1;
  }
  close(mp);
  /* re-open: the old fd still names the covered directory, not the new mount */
  mp = parent >= 0 ? openat(parent, last, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (parent >= 0) close(parent);
  if (mp < 0) { fail_set(f, step, errno ? errno : EINVAL); return -1; }
  unsigned long fl = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | mounts_locked_flags(srcfd);
  if (mount(NULL, fdpath(mp, b), NULL, fl, NULL) < 0) { fail_set(f, step, errno); close(mp); return -1; }
  close(mp);
  return 0;
}

static int mount_tmpfs_at(int root, const char *dest, const char *data, unsigned long flags, mode_t mode) {
  char b[32];
  int mp = open_mountpoint(root, dest, true, NULL, NULL, 0);
  if (mp < 0) return -1;
  int rc = mount("tmpfs", fdpath(mp, b), "tmpfs", flags, data);
  int saved = errno;
  close(mp);
  errno = saved;
  (void)mode;
  return rc;
}

static int bind_scratch_dir(int root, const char *name, const char *dest, enum step step, struct failure *f) {
  char src[64], a[32], b[32];
  snprintf(src, sizeof src, STAGE "/%s", name);
  int s = open(src, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int mp = s < 0 ? -1 : open_mountpoint(root, dest, true, NULL, NULL, 0);
  int rc = mp < 0 ? -1 : mount(fdpath(s, a), fdpath(mp, b), NULL, MS_BIND, NULL);
  if (rc < 0) fail_set(f, step, errno);
  if (s >= 0) close(s);
  if (mp >= 0) close(mp);
  return rc;
}

/* /proc entries that reveal or poke the host kernel: its memory and symbols
 * (kcore, kallsyms, kpage*, vmallocinfo), its build and modules (config.gz,
 * modules), its keyrings (keys, key-users), timers and scheduler internals
 * (timer_list, sched_debug, latency_stats), its log (kmsg), its devices,
 * interrupts and memory layout (iomem, ioports, interrupts, softirqs, dma,
 * mtrr, partitions, diskstats, swaps), slab and page allocator state
 * (slabinfo, pagetypeinfo, buddyinfo, zoneinfo), and sysrq. None of them is
 * namespaced, and no language runtime needs one (they read meminfo, cpuinfo,
 * stat and their own /proc/self). */
static const char *const proc_masked_files[] = {
  "proc/kcore", "proc/keys", "proc/key-users", "proc/timer_list", "proc/sched_debug", "proc/sysrq-trigger",
  "proc/latency_stats", "proc/kallsyms", "proc/kmsg", "proc/config.gz", "proc/modules",
  "proc/kpagecount", "proc/kpageflags", "proc/kpagecgroup", "proc/vmallocinfo", "proc/slabinfo",
  "proc/pagetypeinfo", "proc/buddyinfo", "proc/zoneinfo", "proc/iomem", "proc/ioports",
  "proc/interrupts", "proc/softirqs", "proc/dma", "proc/mtrr", "proc/partitions", "proc/diskstats",
  "proc/swaps", "proc/timer_stats", NULL,
};
static const char *const proc_masked_dirs[] = { "proc/acpi", "proc/scsi", "proc/irq", "proc/bus", "proc/fs", "proc/driver", "proc/tty", "proc/asound", NULL };
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", NULL };

static int setup_dev(int root, struct failure *f) {
  char b[32];
  if (mount_tmpfs_at(root, "dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC, 0755) < 0) { fail_set(f, STEP_MOUNT_DEV, errno); return -1; }
  int dev = openat(root, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0) { fail_set(f, STEP_MOUNT_DEV, errno); return -1; }
  /* the mount points are made in the fresh, empty tmpfs through its fd: nothing
   * in it can be a link yet, so no walk from the root is needed */
  for (const char *const *n = dev_nodes; *n; n++) {
    char host[64], a[32];
    snprintf(host, sizeof host, "/dev/%s", *n);
    int src = open(host, O_PATH | O_CLOEXEC);
    if (src < 0) { fail_set(f, STEP_DEV_NODE, errno); close(dev); return -1; }
    int mp = openat(dev, *n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (mp < 0 || mount(fdpath(src, a), fdpath(mp, b), NULL, MS_BIND, NULL) < 0) {
      fail_set(f, STEP_DEV_NODE, errno); if (mp >= 0) close(mp); close(src); close(dev); return -1;
    }
    close(mp);
    close(src);
  }
  static const char *const links[][2] = {
    { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
  };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlinkat(links[i][0], dev, links[i][1]) < 0) { fail_set(f, STEP_DEV_LINKS, errno); close(dev); return -1; }
  /* a private /dev/shm: a directory of the job's scratch tmpfs, like /tmp,
   * so POSIX shared memory never reaches another job and shares the disk limit */
  if (mkdirat(dev, "shm", 0755) < 0) { fail_set(f, STEP_BIND_SHM, errno); close(dev); return -1; }
  close(dev);
  if (bind_scratch_dir(root, "shm", "dev/shm", STEP_BIND_SHM, f) < 0) return -1;
  int d = openat(root, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0 || mount(NULL, fdpath(d, b), NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0) {
    fail_set(f, STEP_REMOUNT_DEV_RO, errno); if (d >= 0) close(d); return -1;
  }
  close(d);
  return 0;
}

/* --bind-proc: the launcher's own /proc (inside a container: the outer
 * container's, of its pid namespace), bound recursively (the runtime's masks
 * on it are locked in this user namespace: a bind without them is refused)
 * and made nosuid, nodev, noexec. Never done unasked: what it shows the
 * programs is in SECURITY.md. The masks below go on top of it as on a fresh one. */
static int bind_proc(int root, struct failure *f) {
  char a[32], b[32];
  int src = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int mp = src < 0 ? -1 : open_mountpoint(root, "proc", true, NULL, NULL, 0);
  int rc = mp < 0 ? -1 : mount(fdpath(src, a), fdpath(mp, b), NULL, MS_BIND | MS_REC, NULL);
  if (mp >= 0) close(mp);
  /* re-opened: the old fd names the covered directory, not the bind */
  if (rc == 0 && (mp = openat(root, "proc", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)) < 0) rc = -1;
  if (rc == 0) {
    /* a read-only /proc (some runtimes') stays read-only: the flag is locked in this user namespace */
    struct statvfs sv;
    unsigned long ro = fstatvfs(mp, &sv) == 0 && (sv.f_flag & ST_RDONLY) ? MS_RDONLY : 0;
    rc = mount(NULL, fdpath(mp, b), NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | ro | mounts_locked_flags(mp), NULL);
    close(mp);
  }
  if (rc < 0) fail_set(f, STEP_BIND_PROC, errno);
  else f->degraded |= DEGRADED_PROC;
  if (src >= 0) close(src);
  return rc;
}

static int setup_proc(int root, const struct opts *o, struct failure *f) {
  char b[32];
  bool zygote_host = o->zygote_host;
  if (o->bind_proc) {
    if (bind_proc(root, f) < 0) return -1;
  } else {
    int mp = open_mountpoint(root, "proc", true, NULL, NULL, 0);
    if (mp < 0 || mount("proc", fdpath(mp, b), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
      fail_set(f, STEP_MOUNT_PROC, errno); if (mp >= 0) close(mp); return -1;
    }
    close(mp);
  }
  /* A zygote host: the kernel lets a zygote's child mount a procfs of its own
   * pid namespace only if this mount namespace has one with nothing mounted
   * over any of it (the masks below are). One is mounted where nothing can
   * reach it: on a directory that an empty read-only tmpfs then covers. It is
   * never seen; its being there is what the kernel checks. */
  if (zygote_host) {
    int hide = open_mountpoint(root, ZYGOTE_PROC_DIR "/proc", true, NULL, NULL, 0);
    if (hide < 0 || mount("proc", fdpath(hide, b), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
        mount_tmpfs_at(root, ZYGOTE_PROC_DIR, "size=0,mode=0555", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555) < 0) {
      fail_set(f, STEP_MOUNT_PROC, errno); if (hide >= 0) close(hide); return -1;
    }
    close(hide);
  }
  /* masked files are covered by an empty regular file bound read-only: reads
   * find nothing and writes fail with EROFS (a /dev/null bind would swallow them) */
  int mk = open(STAGE "/empty", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (mk >= 0) close(mk);
  int null = open(STAGE "/empty", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (mk < 0 || null < 0) { fail_set(f, STEP_MASK_PROC, errno); if (null >= 0) close(null); return -1; }
  int rc = mounts_mask_proc(root, null, f);
  close(null);
  return rc;
}

int mounts_mask_proc(int root, int null, struct failure *f) {
  char b[32];
  /* The first masked file gets the empty file bound and remounted read-only;
   * every other one gets a bind of that mount, which carries its read-only flag
   * (a bind copies the mount flags): one mount call each instead of two. */
  int ro = -1; /* the read-only mount of the empty file, once made */
  for (const char *const *p = proc_masked_files; *p; p++) {
    int t = openat(root, *p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (t < 0) continue; /* absent on this kernel */
    char a[32];
    int rc = mount(fdpath(ro >= 0 ? ro : null, a), fdpath(t, b), NULL, MS_BIND, NULL);
    close(t);
    /* read-only too: a write to /proc/sysrq-trigger must fail (EROFS), not vanish into /dev/null */
    if (rc == 0 && ro < 0) {
      ro = openat(root, *p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      rc = ro < 0 ? -1 : mount(NULL, fdpath(ro, b), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | mounts_locked_flags(null), NULL);
    }
    if (rc < 0) { fail_set(f, STEP_MASK_PROC, errno); if (ro >= 0) close(ro); return -1; }
  }
  if (ro >= 0) close(ro);
  /* masked directories: one empty read-only tmpfs, bound onto each of them
   * (the binds carry its read-only, nosuid, nodev, noexec flags) */
  ro = -1;
  for (const char *const *p = proc_masked_dirs; *p; p++) {
    int t = openat(root, *p, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (t < 0) continue;
    char a[32];
    int rc = ro >= 0 ? mount(fdpath(ro, a), fdpath(t, b), NULL, MS_BIND, NULL)
                     : mount("tmpfs", fdpath(t, b), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555");
    close(t);
    if (rc == 0 && ro < 0 && (ro = openat(root, *p, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)) < 0) rc = -1;
    if (rc < 0) { fail_set(f, STEP_MASK_PROC, errno); if (ro >= 0) close(ro); return -1; }
  }
  if (ro >= 0) close(ro);
  /* /proc/sys read-only: bind it onto itself, then remount */
  int sys = openat(root, "proc/sys", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  if (sys < 0 || mount(fdpath(sys, b), fdpath(sys, b), NULL, MS_BIND | MS_REC, NULL) < 0) {
    fail_set(f, STEP_PROC_SYS_RO, errno); if (sys >= 0) close(sys); return -1;
  }
  close(sys);
  sys = openat(root, "proc/sys", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  if (sys < 0 || mount(NULL, fdpath(sys, b), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
    fail_set(f, STEP_PROC_SYS_RO, errno); if (sys >= 0) close(sys); return -1;
  }
  close(sys);
  return 0;
}

int mounts_setup(const struct opts *o, int rootfs_fd, const int *bind_fds, struct failure *f) {
  char data[128];
  /* 1. nothing we mount propagates back to the host */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) { fail_set(f, STEP_MOUNT_PRIVATE, errno); return -1; }
  /* 2. the scratch tmpfs (the disk limit) holds the overlay's upper and work dirs */
  if (fchdir(rootfs_fd) < 0) { fail_set(f, STEP_CHDIR_ROOTFS, errno); return -1; }
  snprintf(data, sizeof data, "size=%ldm,mode=0755", o->scratch_mb);
  if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) { fail_set(f, STEP_MOUNT_SCRATCH, errno); return -1; }
  if (mkdir(STAGE "/upper", 0755) < 0 || mkdir(STAGE "/work", 0755) < 0 || mkdir(NEWROOT, 0755) < 0 ||
      mkdir(STAGE "/tmp", 0755) < 0 || chmod(STAGE "/tmp", 01777) < 0 || mkdir(STAGE "/shm", 0755) < 0 ||
      chmod(STAGE "/shm", 01777) < 0 || mkdir(STAGE "/box", 0755) < 0) {
    fail_set(f, STEP_MOUNT_SCRATCH, errno); return -1;
  }
  /* 3. overlay: lower is the image (our cwd, so the path cannot be shadowed) */
  if (mount("overlay", NEWROOT, "overlay", MS_NOSUID | MS_NODEV,
            "lowerdir=.,upperdir=" STAGE "/upper,workdir=" STAGE "/work") < 0) {
    fail_set(f, STEP_MOUNT_OVERLAY, errno); return -1;
  }
  int root = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) { fail_set(f, STEP_OPEN_NEWROOT, errno); return -1; }
  /* 4. read-only binds of host paths (the host image's /usr, ...) */
  for (int i = 0; i < o->nbinds; i++)
    if (bind_fds[i] >= 0 && bind_ro(root, bind_fds[i], o->binds[i].dest, f, STEP_BIND) < 0) goto out;
  /* 5. a minimal /dev, a fresh /proc with the host-revealing entries masked */
  if (setup_dev(root, f) < 0 || setup_proc(root, o, f) < 0) goto out;
  /* 6. /tmp and the work dir are directories of the scratch tmpfs itself, bound
   * into place: they share the disk limit, belong to the sandbox user whoever
   * owns the image's own /tmp, and need no copy-up. */
  if (bind_scratch_dir(root, "tmp", "tmp", STEP_BIND_TMP, f) < 0 || bind_scratch_dir(root, "box", o->workdir + 1, STEP_BIND_WORKDIR, f) < 0) goto out;
  close(root);
  /* 7. pivot_root into the new root and let go of the host's tree */
  if (chdir(NEWROOT) < 0) { fail_set(f, STEP_PIVOT_ROOT, errno); return -1; }
  if (syscall(SYS_pivot_root, ".", ".") < 0) { fail_set(f, STEP_PIVOT_ROOT, errno); return -1; }
  return 0; /* the old root is detached by mounts_detach_old */
out:
  close(root);
  return -1;
}

/* After pivot_root(".", "."), the old root is mounted on top of the new one
 * and is our cwd: detach it (its unmount waits for an RCU grace period),
 * then move to the new root. Init forks no program before this. */
int mounts_detach_old(struct failure *f) {
  if (umount2(".", MNT_DETACH) < 0) { fail_set(f, STEP_UMOUNT_OLDROOT, errno); return -1; }
  if (chdir("/") < 0) { fail_set(f, STEP_PIVOT_ROOT, errno); return -1; }
  return 0;
}
