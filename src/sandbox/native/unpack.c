/* --unpack (served requests): the job's files arrive in the request's stdin,
 * not through a host directory, and are written into the work dir by the
 * program's own process, as the sandbox user, inside the container.
 *
 * The stream is a sequence of entries, each: the path's length (32-bit
 * little-endian), the path (relative, '/'-separated, no empty, "." or ".."
 * segment, at most 32 segments of at most 255 bytes), the content's length
 * (32-bit little-endian) and the content. Files are made 0644 with O_EXCL;
 * every directory on the way is made if missing and entered with O_NOFOLLOW,
 * so a link planted by an earlier program is never followed. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEGMENTS 32

static int read_u32(int fd, uint32_t *v) {
  unsigned char b[4];
  int n = read_full(fd, b, 4);
  if (n == 0) return 0;
  if (n != 4) { errno = n < 0 ? errno : EINVAL; return -1; }
  *v = le32(b);
  return 1;
}

static bool valid_path(const char *path) {
  int segments = 0;
  for (const char *seg = path;;) {
    const char *slash = strchr(seg, '/');
    size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
    if (len == 0 || len > NAME_MAX || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.') || ++segments > MAX_SEGMENTS) return false;
    if (!slash) return true;
    seg = slash + 1;
  }
}

/* Opens (making) the directories of PATH below DIR; returns the last one and points *NAME at the file's name. */
static int open_parent(int dir, char *path, char **name) {
  if (!valid_path(path)) { errno = EINVAL; return -1; }
  int cur = dup(dir);
  if (cur < 0) return -1;
  char *seg = path;
  for (;;) {
    char *slash = strchr(seg, '/');
    if (!slash) { *name = seg; return cur; }
    *slash = 0;
    if (mkdirat(cur, seg, 0755) < 0 && errno != EEXIST) { close(cur); return -1; }
    int next = openat(cur, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    *slash = '/';
    close(cur);
    if (next < 0) return -1;
    cur = next;
    seg = slash + 1;
  }
}

int unpack_files(int in, int dst) {
  char path[PATH_MAX], buf[65536];
  for (;;) {
    uint32_t len, size;
    int got = read_u32(in, &len);
    if (got <= 0) return got; /* 0: the end */
    if (len == 0 || len >= sizeof path) { errno = EINVAL; return -1; }
    if (read_full(in, path, len) != (int)len) { errno = EINVAL; return -1; }
    path[len] = 0;
    if (memchr(path, 0, len)) { errno = EINVAL; return -1; }
    if (read_u32(in, &size) != 1) { errno = EINVAL; return -1; }
    char *name;
    int parent = open_parent(dst, path, &name);
    if (parent < 0) return -1;
    int out = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int saved = errno;
    close(parent);
    if (out < 0) { errno = saved; return -1; }
    while (size > 0) {
      ssize_t k = read(in, buf, size < sizeof buf ? size : sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) { close(out); errno = k < 0 ? errno : EINVAL; return -1; }
      if (write_all(out, buf, (size_t)k) < 0) { saved = errno; close(out); errno = saved; return -1; }
      size -= (uint32_t)k;
    }
    if (close(out) < 0) return -1;
  }
}
