/* warren-zygote.node: the zygote of a Node.js handler (docs/functions.md,
 * "The zygote"), a Node-API module that node_shim.mjs loads in mode
 * `zygote`. It is libwarren-zygote.so's code (zygote.c) with five calls for
 * JavaScript:
 *
 *   quiet()      the zygote's own output goes nowhere: /dev/null on fds 1 and
 *                2, the response channel (fd 3) closed
 *   next(ctl)    warren_zygote_next: returns 0 in an invocation's child, set
 *                up; -1 in the zygote once the launcher is gone
 *   afterFork()  in the child: the event loop made its own again, and the
 *                response channel moved off fd 1 (returned), fd 1 then stderr
 *   pid()        the child's pid (1: its own pid namespace's first)
 *   exit(code)   _exit: a child ends without Node's exit path (which joins
 *                threads a forked child does not have)
 *
 * A Node.js process has threads (V8's platform workers, libuv's pool), so
 * its children are made by libc's fork (zygote.c: C1 forked, the namespaces
 * made in it, C2 forked as pid 1 of the new pid namespace), never ahead of
 * the event. The shim runs V8 with --single-threaded: a forked child has
 * only the thread that forked, and V8 then posts no work to others. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Node-API's stable C ABI (node_api.h, js_native_api.h): only what is used,
 * declared here so that the build needs no Node.js headers */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok: 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
extern napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);
extern napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_get_value_int32(napi_env env, napi_value value, int32_t *result);
extern napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result);
extern napi_status napi_throw_error(napi_env env, const char *code, const char *msg);
#define NAPI_AUTO_LENGTH SIZE_MAX

/* libuv's, as the node binary exports it (its handles are only passed back to it) */
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_stream_s uv_stream_t;
/* uv_handle_type's values (uv.h: UV_HANDLE_TYPE_MAP, in this order from UV_UNKNOWN_HANDLE = 0; stable across libuv 1.x) */
enum { UV_TCP_TYPE = 12, UV_NAMED_PIPE_TYPE = 7 };
extern int uv_handle_get_type(const uv_handle_t *handle);
extern int uv_is_readable(const uv_stream_t *handle);
extern int uv_is_writable(const uv_stream_t *handle);
typedef void (*uv_walk_cb)(uv_handle_t *handle, void *arg);
extern uv_loop_t *uv_default_loop(void);
extern int uv_loop_fork(uv_loop_t *loop);
extern void uv_walk(uv_loop_t *loop, uv_walk_cb cb, void *arg);
extern int uv_fileno(const uv_handle_t *handle, int *fd);

/* The response channel in the zygote (node_shim.mjs: `3>&1 1>&2`) */
#define ZYGOTE_RESPONSE_FD 3

static int32_t int_arg(napi_env env, napi_callback_info info, int32_t fallback) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t v = fallback;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == 0 && argc >= 1) napi_get_value_int32(env, argv[0], &v);
  return v;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out = NULL;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value js_quiet(napi_env env, napi_callback_info info) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
    napi_throw_error(env, NULL, "warren-zygote: cannot put /dev/null on stdout and stderr");
    return NULL;
  }
  close(null);
  close(ZYGOTE_RESPONSE_FD);
  return int_value(env, 0);
}

static napi_value js_next(napi_env env, napi_callback_info info) {
  return int_value(env, warren_zygote_next(int_arg(env, info, 0)));
}

/* A handle of the zygote's (a connection its handler's module opened at
 * import, a server it listens with) whose descriptor the child no longer
 * has: each of the child's descriptors but stdio was closed (zygote.c,
 * child_stdio), and the loop would abort re-registering a closed one. In
 * its place: for a connection, one end of a socket pair whose other end is
 * closed, so that to its handle the connection has ended (a client pool
 * opens a new one); for anything else (a server, a UDP socket), an eventfd
 * that never becomes readable, so that nothing is ever accepted or received
 * (a closed pair under a server made libuv's accept loop spin). Nothing the
 * zygote holds reaches the child this way. */
static void orphaned(uv_handle_t *handle, void *arg) {
  int fd = -1;
  (void)arg;
  if (uv_fileno(handle, &fd) != 0 || fd <= 2 || fcntl(fd, F_GETFD) >= 0 || errno != EBADF) return;
  int type = uv_handle_get_type(handle);
  bool connection = (type == UV_TCP_TYPE || type == UV_NAMED_PIPE_TYPE) && (uv_is_readable((const uv_stream_t *)handle) || uv_is_writable((const uv_stream_t *)handle));
  int stand_in = -1;
  if (connection) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0) return;
    close(pair[1]);
    stand_in = pair[0];
  } else if ((stand_in = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
    return;
  }
  if (stand_in != fd) {
    dup3(stand_in, fd, O_CLOEXEC);
    close(stand_in);
  }
}

static napi_value js_after_fork(napi_env env, napi_callback_info info) {
  uv_loop_t *loop = uv_default_loop();
  uv_walk(loop, orphaned, NULL);
  if (uv_loop_fork(loop) != 0) {
    napi_throw_error(env, NULL, "warren-zygote: uv_loop_fork failed in the child");
    return NULL;
  }
  int response = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (response < 0 || dup2(2, 1) < 0) {
    napi_throw_error(env, NULL, "warren-zygote: cannot move the response channel off stdout");
    return NULL;
  }
  return int_value(env, response);
}

static napi_value js_pid(napi_env env, napi_callback_info info) {
  return int_value(env, (int32_t)getpid());
}

static napi_value js_exit(napi_env env, napi_callback_info info) {
  _exit(int_arg(env, info, 0) & 0xff);
}

EXPORT napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  static const struct { const char *name; napi_callback cb; } calls[] = {
    { "quiet", js_quiet }, { "next", js_next }, { "afterFork", js_after_fork }, { "pid", js_pid }, { "exit", js_exit },
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, calls[i].name, NAPI_AUTO_LENGTH, calls[i].cb, NULL, &fn) != 0 ||
        napi_set_named_property(env, exports, calls[i].name, fn) != 0)
      return NULL;
  }
  return exports;
}

/* The Node-API version this module is built for (8: Node.js 12.22 and later) */
EXPORT int32_t node_api_module_get_api_version_v1(void) { return 8; }
