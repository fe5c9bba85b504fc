/* Small helpers: failures, files, time, full reads and writes, messages with fds. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void fail_set(struct failure *f, enum step step, int err) {
  memset(f, 0, sizeof *f);
  f->step = step;
  f->err = err ? err : EIO;
}

/* The step list (steps.h): its names, by identifier */
static const char *const step_names[] = {
  [STEP_NONE] = "",
#define WARREN_STEP_NAME(id, name, meaning) [STEP_##id] = name,
  WARREN_STEPS(WARREN_STEP_NAME)
#undef WARREN_STEP_NAME
};

const char *step_name(enum step step) {
  return (unsigned)step < sizeof step_names / sizeof step_names[0] ? step_names[step] : "unknown";
}

void close_fds(const int *fds, int n) {
  for (int i = 0; i < n; i++) if (fds[i] >= 0) close(fds[i]);
}

int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}

int read_full(int fd, void *buf, size_t n) {
  char *p = buf; size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (int)got;
}

int write_fileat(int dirfd, const char *name, const char *data) {
  int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  int rc = write_all(fd, data, strlen(data));
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int write_file(const char *path, const char *data) { return write_fileat(AT_FDCWD, path, data); }

int read_fileat(int dirfd, const char *name, char *buf, size_t size) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  int n = read_full(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

/* Value of "key N" in a flat-keyed file (cpu.stat, memory.events); key NULL: the first number. */
long long read_keyed(int dirfd, const char *file, const char *key) {
  char buf[4096];
  if (read_fileat(dirfd, file, buf, sizeof buf) < 0) return -1;
  return keyed_value(buf, key);
}

/* The same of a file's text already read (BUF, NUL-terminated) */
long long keyed_value(char *buf, const char *key) {
  if (!key) return strtoll(buf, NULL, 10);
  size_t kl = strlen(key);
  for (char *line = buf; line && *line; ) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ' ') return strtoll(line + kl + 1, NULL, 10);
    line = strchr(line, '\n');
    if (line) line++;
  }
  return -1;
}

const char *errno_text(int e) {
  /* glibc's wording where musl's differs; the rest are the same in both */
  switch (e) {
  case ENOMEM: return "Cannot allocate memory";
  case EIO: return "Input/output error";
  case ECHILD: return "No child processes";
  case EBUSY: return "Device or resource busy";
  case EXDEV: return "Invalid cross-device link";
  case EMFILE: return "Too many open files";
  case ENOTTY: return "Inappropriate ioctl for device";
  case ESPIPE: return "Illegal seek";
  case ENAMETOOLONG: return "File name too long";
  case ELOOP: return "Too many levels of symbolic links";
  case EOVERFLOW: return "Value too large for defined data type";
  case EDQUOT: return "Disk quota exceeded";
  case EOPNOTSUPP: return "Operation not supported";
  case ENOSYS: return "Function not implemented";
  case EAGAIN: return "Resource temporarily unavailable";
  default: return strerror(e);
  }
}

pid_t wait_into(pid_t pid, int options, struct waited *w) {
  struct rusage ru;
  int status = 0;
  memset(&ru, 0, sizeof ru);
  pid_t got = wait4(pid, &status, options, &ru);
  w->pid = got;
  w->status = status;
  w->cpu_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec + (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
  w->maxrss_kb = ru.ru_maxrss;
  return got;
}

int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Pass file descriptors over a unix socket (SCM_RIGHTS), with one byte of data: the message's type. */
int send_msg(int sock, enum msg type, const int *fds, int n) {
  char byte = (char)type, ctrl[CMSG_SPACE(sizeof(int) * 16)];
  if (n < 0 || n > 16) { errno = EINVAL; return -1; }
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1;
  memset(ctrl, 0, sizeof ctrl);
  if (n > 0) {
    m.msg_control = ctrl; m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
  }
  for (;;) {
    ssize_t w = sendmsg(sock, &m, MSG_NOSIGNAL);
    if (w == 1) return 0;
    if (w < 0 && errno == EINTR) continue;
    if (w >= 0) errno = EIO;
    return -1;
  }
}

/* Receive up to MAX fds (close-on-exec) and the message's type; returns how many, -1 on error or EOF. */
int recv_msg(int sock, enum msg *type, int *fds, int max) {
  char byte, ctrl[CMSG_SPACE(sizeof(int) * 16)];
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1;
  m.msg_control = ctrl; m.msg_controllen = sizeof ctrl;
  ssize_t r;
  while ((r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (r <= 0) { if (r == 0) errno = EPIPE; return -1; }
  *type = (enum msg)byte;
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int got[16];
    memcpy(got, CMSG_DATA(c), sizeof(int) * (size_t)k);
    for (int i = 0; i < k; i++) { if (n < max) fds[n++] = got[i]; else close(got[i]); }
  }
  if (m.msg_flags & MSG_CTRUNC) { for (int i = 0; i < n; i++) close(fds[i]); errno = EMSGSIZE; return -1; }
  return n;
}
