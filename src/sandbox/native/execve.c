/* Starting the program, and saying what failed when it cannot start.
 *
 * The program is looked up in PATH as execvp(3) does, but a file the kernel
 * refuses (ENOEXEC) is never handed to /bin/sh: glibc's execvp would run a
 * garbage ./main as a shell script (musl's does not), so the same job would
 * get a different outcome on each libc. runc, crun and Go's os/exec report
 * "exec format error" too.
 *
 * A failure names the file execve failed on, the interpreter it asks for (a
 * `#!` line, or an ELF's PT_INTERP) when the failure can be about that
 * interpreter, and whether the file lies in the job's scratch (the work dir,
 * /tmp, /dev/shm: one tmpfs). Warren decides from these whose fault it was
 * (src/worker/exec-blame.ts): a program the job built or changed is the job's
 * fault, the image's own program is Warren's.
 */
#include "launcher.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* An ELF's PT_INTERP into OUT, for either class: its header is in HEAD, the file is FD. */
#define ELF_INTERP(Ehdr, Phdr)                                                                        \
  do {                                                                                                \
    Ehdr eh;                                                                                          \
    memcpy(&eh, head, sizeof eh);                                                                     \
    for (unsigned i = 0; eh.e_phentsize == sizeof(Phdr) && i < eh.e_phnum && i < 64; i++) {           \
      Phdr ph;                                                                                        \
      if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph) break; \
      if (ph.p_type != PT_INTERP) continue;                                                           \
      ssize_t k = pread(fd, out, ph.p_filesz < size ? ph.p_filesz : size - 1, (off_t)ph.p_offset);    \
      out[k > 0 ? k : 0] = 0;                                                                         \
      break;                                                                                          \
    }                                                                                                 \
  } while (0)

/* The interpreter FILE asks for (OUT is empty when none is found). */
static void interpreter_of(const char *file, char *out, size_t size) {
  out[0] = 0;
  /* O_NONBLOCK: the job may have put a FIFO there */
  int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return;
  unsigned char head[256]; /* the kernel reads no more of a #! line (BINPRM_BUF_SIZE) */
  ssize_t n = pread(fd, head, sizeof head - 1, 0);
  bool elf = n >= (ssize_t)sizeof(Elf64_Ehdr) && !memcmp(head, ELFMAG, SELFMAG);
  if (n >= 2 && head[0] == '#' && head[1] == '!') {
    head[n] = 0;
    const char *p = (const char *)head + 2;
    p += strspn(p, " \t");
    snprintf(out, size, "%.*s", (int)strcspn(p, " \t\n"), p);
  } else if (elf && head[EI_CLASS] == ELFCLASS64) ELF_INTERP(Elf64_Ehdr, Elf64_Phdr);
  else if (elf && head[EI_CLASS] == ELFCLASS32) ELF_INTERP(Elf32_Ehdr, Elf32_Phdr);
  close(fd);
}

/* F describes the failure of execve(PATH) with ERR. */
static void describe(struct failure *f, int err, const char *path, const char *workdir) {
  fail_set(f, STEP_EXECVE, err);
  if (!path) return; /* not found in PATH */
  snprintf(f->path, sizeof f->path, "%s", path);
  struct stat st, wd;
  if (stat(path, &st) < 0) return;
  f->scratch = stat(workdir, &wd) == 0 && st.st_dev == wd.st_dev;
  /* the file exists: ENOENT, EISDIR, ELIBBAD, ELOOP are about its interpreter,
   * and so is EACCES when the file itself is executable */
  if (S_ISREG(st.st_mode) && (err == ENOENT || err == EISDIR || err == ELIBBAD || err == ELOOP || (err == EACCES && access(path, X_OK) == 0)))
    interpreter_of(path, f->interpreter, sizeof f->interpreter);
}

void execve_program(char *const *argv, const char *workdir, struct failure *f) {
  const char *name = argv[0];
  if (strchr(name, '/')) {
    execve(name, argv, environ);
    describe(f, errno, name, workdir);
    return;
  }
  /* execvp's search: ENOENT and ENOTDIR try the next entry, EACCES too but is
   * reported if nothing is found; any other error ends the search */
  const char *dirs = getenv("PATH");
  if (!dirs) dirs = "/bin:/usr/bin";
  char path[4096], denied[4096] = "";
  for (const char *p = dirs; *name; ) {
    size_t len = strcspn(p, ":");
    /* an empty entry is the working directory */
    if (snprintf(path, sizeof path, "%.*s%s%s", (int)len, p, len ? "/" : "", name) < (int)sizeof path) {
      execve(path, argv, environ);
      if (errno == EACCES) { if (!denied[0]) snprintf(denied, sizeof denied, "%s", path); }
      else if (errno != ENOENT && errno != ENOTDIR) { describe(f, errno, path, workdir); return; }
    }
    if (!p[len]) break;
    p += len + 1;
  }
  if (denied[0]) describe(f, EACCES, denied, workdir);
  else describe(f, ENOENT, NULL, workdir);
}
