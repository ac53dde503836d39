"""Hosts one version of one Python module for claude-daemon.

The daemon starts one of these per module version: ``python3 claude_daemon_host.py FILE NAME
[SNAPSHOT]``. SNAPSHOT is the daemon's private copy of FILE's text as it was when the version was
built: the code runs from it (so a restart after a broken save runs the last good code), while
tracebacks, ``__file__`` and imports of local helpers still use FILE's name and directory.
It speaks JSON lines with the daemon over stdin and the original stdout; everything the module
prints (``print``, C-level writes to fd 1) goes to stderr, which the daemon logs tagged with the
module's name, so module output can never corrupt the protocol stream.

A version that fails to import (syntax error, exception at top level) reports where and exits: the
daemon keeps the previous version serving. Each call runs on its own thread so a slow call does not
hold back others; a runaway call is stopped by the daemon killing this process and starting a fresh
one from the same file. Standard library only.
"""
import asyncio
import importlib.util
import inspect
import json
import linecache
import os
import re
import sys
import threading
import traceback

# The protocol keeps private duplicates of fds 0 and 1 (not inherited by subprocesses); fd 1 then
# points at stderr and fd 0 at /dev/null, so neither the module nor a subprocess it starts can read
# the daemon's requests or write into the replies.
_proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
_proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
os.dup2(2, 1)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)
sys.stdout = sys.stderr
sys.stdin = open(os.devnull, "r")
_lock = threading.Lock()
_module = None
# Only this process may answer: a child forked by module code inherits the protocol pipe, and its
# replies (racing the parent's, usually winning) are dropped; the child then ends silently.
_host_pid = os.getpid()
_call_id = re.compile(r'^\{"t":"call","id":(\d+),')


def send(obj):
    if os.getpid() != _host_pid:
        return
    line = json.dumps(obj)
    with _lock:
        _proto.write(line + "\n")
        _proto.flush()


def limit_memory():
    mb = os.environ.get("CLAUDE_DAEMON_MODULE_MEMORY_MB")
    if not mb:
        return
    try:
        import resource

        # RLIMIT_DATA counts what the module allocates, not the address space the interpreter
        # reserves for thread stacks and malloc arenas; 64 MB is the interpreter's own share.
        cap = (int(mb) + 64) << 20
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass


def location_of(tb, files):
    """The innermost traceback frame inside the module's own files, as file:line."""
    found = None
    for frame in traceback.extract_tb(tb):
        if os.path.abspath(frame.filename) in files or os.path.dirname(os.path.abspath(frame.filename)) in files:
            col = getattr(frame, "colno", None)
            found = "%s:%d:%d" % (frame.filename, frame.lineno, col + 1) if col is not None else "%s:%d" % (frame.filename, frame.lineno)
    return found


def own_frames(tb, path):
    """The traceback from the module's first frame on, without the host's and importlib's."""
    start = tb
    while start is not None and os.path.abspath(start.tb_frame.f_code.co_filename) != path:
        start = start.tb_next
    return start if start is not None else tb


def params_of(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    out = []
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            out.append("*" + p.name)
        elif p.kind == p.VAR_KEYWORD:
            out.append("**" + p.name)
        else:
            out.append(p.name)
    return out


def load(path, name, snapshot=None):
    global _module
    moddir = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, moddir)
    before = set(sys.modules)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load %s as a Python module" % path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        if snapshot is None:
            spec.loader.exec_module(mod)
        else:
            with open(snapshot, encoding="utf-8") as f:
                source = f.read()
            # Tracebacks show the lines this version runs, not those of a later save on disk.
            linecache.cache[os.path.abspath(path)] = (len(source), None, source.splitlines(True), os.path.abspath(path))
            exec(compile(source, path, "exec"), mod.__dict__)
    except SyntaxError as e:
        send({"t": "load_error", "message": "%s:%s:%s: SyntaxError: %s" % (e.filename, e.lineno, e.offset, e.msg)})
        return False
    except BaseException as e:  # noqa: BLE001 - any import-time failure keeps the old version
        where = location_of(e.__traceback__, {os.path.abspath(path), moddir})
        tb = "".join(traceback.format_exception(type(e), e, own_frames(e.__traceback__, os.path.abspath(path))))
        send({"t": "load_error", "message": "%sthrew while loading: %s" % (where + ": " if where else "", tb.rstrip())})
        return False
    _module = mod
    functions = []
    for key, value in vars(mod).items():
        if key.startswith("_") or key == "dispose" or not inspect.isfunction(value):
            continue
        if getattr(value, "__module__", None) != name:
            continue  # imported from elsewhere (e.g. the client's helpers), not this module's own
        functions.append({"name": key, "params": params_of(value)})
    files = [os.path.abspath(path)]
    for key in set(sys.modules) - before:
        f = getattr(sys.modules.get(key), "__file__", None)
        if f and os.path.abspath(f).startswith(moddir + os.sep) and "site-packages" not in f:
            files.append(os.path.abspath(f))
    send({"t": "ready", "functions": functions, "files": sorted(set(files))})
    return True


def run_call_in_host(msg):
    try:
        run_call(msg)
    finally:
        if os.getpid() != _host_pid:
            os._exit(0)  # a child forked by the call: it never answers nor runs on


def describe(e, tb):
    """The traceback text; never raises, whatever the exception's __str__ or __repr__ do."""
    try:
        return "".join(traceback.format_exception(type(e), e, tb)).rstrip()
    except BaseException:  # noqa: BLE001 - __str__ may raise even SystemExit
        try:
            args = ", ".join(repr(a) for a in getattr(e, "args", ()))
        except BaseException:  # noqa: BLE001
            args = "<unprintable arguments>"
        return "%s(%s) (its __str__ raised)" % (type(e).__qualname__, args)


def run_call(msg):
    # Lineage: the client (python/client.py) reads the process this call is made for from its thread.
    threading.current_thread().claude_daemon_call = {"parent": msg.get("parent")}
    call_id = msg["id"]
    fn_name = msg["fn"]
    fn = getattr(_module, fn_name, None)
    if fn_name.startswith("_") or not callable(fn):
        send({"t": "error", "id": call_id, "code": "FUNCTION_NOT_FOUND", "message": "no function '%s'" % fn_name})
        return
    out_of_memory = False
    try:
        result = fn(*msg.get("args", []), **(msg.get("kwargs") or {}))
        if inspect.isawaitable(result):

            async def wait(aw=result):
                return await aw

            result = asyncio.run(wait())
    except MemoryError:
        # Reported after the except block, once the traceback (and the memory its frames hold) is gone.
        out_of_memory = True
    except SystemExit as e:
        send({"t": "error", "id": call_id, "code": "MODULE_CRASHED", "message": "the module called sys.exit(%s) and was restarted from its last good version" % (e.code,)})
        os._exit(e.code if isinstance(e.code, int) else 1)
    except BaseException as e:  # noqa: BLE001 - report every failure of user code
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        text = describe(e, tb)
        send({"t": "error", "id": call_id, "code": "FUNCTION_ERROR", "message": text})
        return
    if out_of_memory:
        cap = os.environ.get("CLAUDE_DAEMON_MODULE_MEMORY_MB", "?")
        send({"t": "error", "id": call_id, "code": "MODULE_CRASHED", "message": "the module ran out of memory (cap %s MB) and was restarted from its last good version" % cap})
        os._exit(70)
    try:
        text = json.dumps(result, allow_nan=False)
    except RecursionError:
        send({"t": "error", "id": call_id, "code": "RESULT_NOT_SERIALIZABLE", "message": "%s returned a value nested too deep to serialize as JSON (or one that contains itself)" % fn_name})
        return
    except (TypeError, ValueError) as e:
        send({"t": "error", "id": call_id, "code": "RESULT_NOT_SERIALIZABLE", "message": "%s returned a value that is not JSON: %s" % (fn_name, e)})
        return
    send({"t": "result", "id": call_id, "json": text})


def dispose():
    fn = getattr(_module, "dispose", None)
    error = None
    if callable(fn):
        try:
            fn()
        except BaseException:  # noqa: BLE001
            error = traceback.format_exc()
    send({"t": "disposed", "error": error} if error else {"t": "disposed"})


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: claude_daemon_host.py FILE MODULE_NAME [SNAPSHOT]\n")
        os._exit(2)
    limit_memory()
    if not load(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None):
        os._exit(1)
    for line in _proto_in:
        try:
            msg = json.loads(line)
        except RecursionError:
            # Arguments nested deeper than Python's json reads: that call fails alone.
            m = _call_id.match(line)
            if m:
                send({"t": "error", "id": int(m.group(1)), "code": "INVALID_PARAMS", "message": "the arguments are nested too deep for Python to read (Python's limit is about %d levels); pass flatter data" % sys.getrecursionlimit()})
            continue
        except ValueError:
            continue
        kind = msg.get("t")
        if kind == "call":
            threading.Thread(target=run_call_in_host, args=(msg,), daemon=True).start()
        elif kind == "dispose":
            dispose()
    os._exit(0)


if __name__ == "__main__":
    main()
