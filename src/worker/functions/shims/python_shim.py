"""Warren's Python function shim (docs/functions.md, "The shims' contract").

    python3 -u python_shim.py check|serve|zygote MODULE FUNCTION NAME VERSION

Imports MODULE from the work dir and finds FUNCTION in it. `check` stops
there (a deploy's trial load); `serve` then says it is ready (a line
{"ready": true} on the response channel) and blocks reading its event on stdin
(a header line of JSON, then the body to EOF), calls FUNCTION(event, context)
and writes the response on the response channel: the process's original
stdout, kept as a private fd, while fd 1 and sys.stdout point at stderr so
that what the handler prints cannot corrupt the response. The response is a
header line of JSON (with the body's length when ok), then the body.

`zygote` (docs/functions.md, "The zygote") imports as `serve` does, then lets
go of its output (nothing more is said on it), says it is ready on its stdin
(the zygote's control socket) and hands itself to libwarren-zygote.so, which
forks each invocation's process into fresh namespaces, cgroup and scratch;
that process is back here with its own stdin, stdout and stderr, and serves
its one event as `serve` does.

Part of Warren, not of the user's code: a failure of the shim itself is
reported as {"ok": false, "warren": ...}, never as the handler's error.
"""

import json
import os
import sys
import time

# The response channel: the original stdout. Duplicates are close-on-exec
# (PEP 446), so a process the handler starts cannot write on it.
RESPONSE_FD = os.dup(1)
os.dup2(2, 1)
HEADER_MAX = 64 * 1024


# The first line in mode serve, once the import is done: Warren hands the
# container out as warm only after it.
READY_LINE = b'{"ready":true}\n'


def send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(RESPONSE_FD, view):]


def respond(header, body=b""):
    sys.stdout.flush()
    sys.stderr.flush()
    if header.get("ok"):
        header["length"] = len(body)  # Warren answers once it has the body, before this process ends
    send(json.dumps(header).encode("utf-8") + b"\n" + body)
    # The launcher, woken by that write, may be waiting for this CPU (a pipe's reader is woken where its writer
    # runs): it passes the response on first, before this process's end (its memory, its namespaces) takes it.
    os.sched_yield()


def describe(error):
    import traceback  # only on a failure: every import costs each invocation's start

    return {
        "type": type(error).__name__,
        "message": str(error),
        "stack": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
    }


class Context:
    """What a handler knows of its invocation besides the event."""

    def __init__(self, invocation_id, function_name, function_version, timeout_ms):
        self.invocation_id = invocation_id
        self.function_name = function_name
        self.function_version = function_version
        self._deadline = time.monotonic() + timeout_ms / 1000.0

    def remaining_time_ms(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def elapsed_ms(since):
    return round((time.perf_counter() - since) * 1000, 3)


def is_json(content_type):
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def is_text(content_type):
    return content_type.split(";", 1)[0].strip().lower().startswith("text/")


def decode_event(body, content_type):
    if is_json(content_type):
        return None if body.strip() == b"" else json.loads(body)
    if is_text(content_type):
        return body.decode("utf-8", errors="replace")
    return body


def encode_result(result):
    if isinstance(result, (bytes, bytearray, memoryview)):
        return "application/octet-stream", bytes(result)
    try:
        return "application/json", json.dumps(result, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise TypeError("the handler's result is not JSON-serializable (return bytes for a binary response): %s" % error) from None


def load(module_name, function_name):
    """The handler, or None once the failure is reported."""
    sys.path.insert(0, os.getcwd())
    try:
        import importlib

        module = importlib.import_module(module_name)
    except BaseException as error:  # an import that raises, exits or fails to parse is the function's
        respond({"ok": False, "load": describe(error)})
        return None
    handler = getattr(module, function_name, None)
    if not callable(handler):
        what = "has no attribute" if handler is None else "has a non-callable attribute"
        respond({"ok": False, "load": {"type": "HandlerNotFound", "message": "module %r %s %r" % (module_name, what, function_name), "stack": None}})
        return None
    return handler


def serve(handler, name, version):
    line = sys.stdin.buffer.readline(HEADER_MAX)
    if not line.endswith(b"\n"):
        respond({"ok": False, "warren": "the event's header line is missing or over %d bytes" % HEADER_MAX})
        return
    meta = json.loads(line)
    body = sys.stdin.buffer.read()
    context = Context(meta["id"], name, version, meta["timeoutMs"])
    try:
        event = decode_event(body, meta["contentType"])
    except ValueError as error:
        respond({"ok": False, "error": {"type": "InvalidEvent", "message": "the event is not valid JSON: %s" % error, "stack": None}})
        return
    # The handler's own time (handlerMs): its call alone, so that Warren's share of an invocation is what is left.
    called = time.perf_counter()
    try:
        result = handler(event, context)
    except BaseException as error:  # SystemExit and KeyboardInterrupt included: the handler's own doing
        respond({"ok": False, "error": describe(error), "handlerMs": elapsed_ms(called)})
        return
    handler_ms = elapsed_ms(called)
    try:
        content_type, payload = encode_result(result)
    except BaseException as error:
        respond({"ok": False, "error": describe(error), "handlerMs": handler_ms})
        return
    respond({"ok": True, "contentType": content_type, "handlerMs": handler_ms}, payload)


ZYGOTE_LIBRARY = "/warren-lib/libwarren-zygote.so"


def rehearse(name, version):
    """The shim's own path, once, in the zygote, on a made-up event; the
    handler is never called and nothing is written. What that path makes the
    first time (json's decoder and encoder state, the interpreter's caches of
    attribute lookups, the C library's resolved symbols) is then the
    zygote's, inherited by every child, instead of made again in each."""
    header = b'{"id":"rehearsal","contentType":"application/json","timeoutMs":1000}\n'
    meta = json.loads(header)
    Context(meta["id"], name, version, meta["timeoutMs"]).remaining_time_ms()
    called = time.perf_counter()
    for body, content_type in ((b'{"a":[1,"b",null,true,1.5]}', meta["contentType"]), (b"", "application/json"), (b"text", "text/plain"), (b"\x00", "application/octet-stream")):
        encode_result(decode_event(body, content_type))
    encode_result({"a": [1, "b", None, True, 1.5], "c": "d"})
    json.dumps({"ok": True, "contentType": "application/json", "handlerMs": elapsed_ms(called)}).encode("utf-8")


def learn(library, after_fork, name, version):
    """Which pages a child writes first: a child forked for it serves a
    made-up event through the shim's own path with an echo for a handler
    (the function's handler is never called), its output going nowhere, and
    the library notes the pages it wrote; each child made ahead then writes
    those while it waits for its event (libwarren-zygote.so, zygote.c)."""
    global RESPONSE_FD
    import ctypes

    body = b'{"a":[1,"b",null,true,1.5]}'
    event = b'{"id":"rehearsal","contentType":"application/json","timeoutMs":1000}\n' + body
    library.warren_zygote_learn_fork.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    if library.warren_zygote_learn_fork(event, len(event)) != 1:
        return
    try:
        # as a child does from here on (zygote() below), the handler aside
        after_fork()
        RESPONSE_FD = os.dup(1)
        os.dup2(2, 1)
        serve(lambda event, context: event, name, version)
    finally:
        library.warren_zygote_learn_report()  # never returns


def zygote(handler, name, version):
    global RESPONSE_FD
    import ctypes
    import gc

    # PyDLL: the interpreter lock stays held while the library waits and forks,
    # so no other thread of the runtime runs meanwhile, and the child resumes
    # with the state the import left.
    library = ctypes.PyDLL(ZYGOTE_LIBRARY)
    after_fork = ctypes.pythonapi.PyOS_AfterFork_Child
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 2)
    os.dup2(null, 1)
    os.close(null)
    os.close(RESPONSE_FD)
    try:
        rehearse(name, version)
    except BaseException:  # only ever a head start: a child that fails the same way reports it
        pass
    # What the import made is moved out of the collector's reach: a collection
    # in a child then never walks (and so never copies) the zygote's objects.
    gc.collect()
    gc.freeze()
    try:
        learn(library, after_fork, name, version)
    except BaseException:  # only ever a head start
        pass
    os.write(0, b"R")
    if library.warren_zygote_next(0) != 0:
        os._exit(0)  # the container is ending
    # the child: its runtime's state after a fork (threads, locks, the random seed, at-fork hooks)
    after_fork()
    RESPONSE_FD = os.dup(1)
    os.dup2(2, 1)
    serve(handler, name, version)


def main():
    mode, module_name, function_name, name, version = sys.argv[1:6]
    handler = load(module_name, function_name)
    if handler is None:
        return
    if mode == "check":
        respond({"ok": True, "contentType": "application/json"})
    elif mode == "zygote":
        zygote(handler, name, version)
    else:
        send(READY_LINE)
        serve(handler, name, version)


try:
    main()
except BaseException:
    try:
        import traceback

        respond({"ok": False, "warren": "the Python shim failed: " + traceback.format_exc()})
    except BaseException:
        pass
    os._exit(70)
# Threads the handler left, atexit hooks it registered: none of them delays or changes the answer.
os._exit(0)
