"""A standard-library-only client for claude-daemon.

Usable from any Python script (copy this one file, or put this directory on ``sys.path``) and inside
Python modules hosted by the daemon, where it is importable as ``client``::

    from client import spawn_claude_process, call_function
    spawn_claude_process(['claude', '-p', 'analyze'])
    call_function('other_module', 'fn', ['arg'])

Each helper sends one JSON line to the daemon's Unix socket (``CLAUDE_DAEMON_SOCKET``, default
``/tmp/claude_daemon.sock``) on a fresh connection and returns the reply's ``result``; a reply with
``success: false`` raises :class:`DaemonError` carrying the stable ``code``. ``send_command`` is the
raw primitive: it returns the reply object as the daemon sent it and never raises on ``success:
false``.

Run as a script for a quick check: ``python3 client.py ping`` or
``python3 client.py call_function '{"module_name": "example", "function_name": "hello", "args": ["Claude"]}'``.
"""
import json
import os
import socket

DEFAULT_SOCKET_PATH = "/tmp/claude_daemon.sock"

__all__ = [
    "DaemonError",
    "send_command",
    "request",
    "ping",
    "spawn_process",
    "spawn_claude_process",
    "list_processes",
    "process_info",
    "read_output",
    "wait_process",
    "kill_process",
    "remove_process",
    "load_module",
    "call_function",
    "list_modules",
    "unload_module",
]


class DaemonError(Exception):
    """The daemon answered ``success: false``; ``code`` is the stable error code (e.g. CALL_TIMEOUT)."""

    def __init__(self, code, message, command):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.command = command


def socket_path(explicit=None):
    """The socket the daemon listens on: argument, then $CLAUDE_DAEMON_SOCKET, then the default."""
    return explicit or os.environ.get("CLAUDE_DAEMON_SOCKET") or DEFAULT_SOCKET_PATH


def send_command(command, socket_path_=None, timeout=None, **params):
    """Sends one command and returns the daemon's reply object (``{"success": ..., ...}``)."""
    message = dict(params)
    message["command"] = command
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        path = socket_path(socket_path_)
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            raise ConnectionError("no claude-daemon is running on %s (%s); start one with `claude-daemon start`" % (path, e)) from e
        sock.sendall((json.dumps(message) + "\n").encode("utf-8"))
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\n" in chunk:
                break
        data = b"".join(chunks)
        line = data.split(b"\n", 1)[0]
        if not line:
            raise ConnectionError("the daemon closed the connection without replying to %s" % command)
        return json.loads(line.decode("utf-8"))
    finally:
        sock.close()


def request(command, timeout=None, **params):
    """Sends one command and returns its ``result``; raises DaemonError on ``success: false``."""
    clean = {k: v for k, v in params.items() if v is not None}
    reply = send_command(command, timeout=timeout, **clean)
    if not reply.get("success"):
        raise DaemonError(reply.get("code", "UNKNOWN"), reply.get("error", "unknown error"), command)
    return reply.get("result")


def ping():
    """The daemon's identity: version, pid, socket, modules directory."""
    return request("ping")


def spawn_process(cmd, process_id=None, **options):
    """Starts ``cmd`` (a list of strings) under the daemon; options: cwd, env, stdin, timeout_s, name."""
    if isinstance(cmd, str):
        cmd = [cmd]
    return request("spawn_process", cmd=list(cmd), process_id=process_id, **options)


def spawn_claude_process(cmd, process_id=None, **options):
    """Starts a ``claude`` run: ``spawn_claude_process(['claude', '-p', 'analyze'])``.

    The list is the whole command line; when it does not start with ``claude`` it is taken as
    claude's arguments (``['-p', 'analyze']``).
    """
    if isinstance(cmd, str):
        cmd = [cmd]
    cmd = list(cmd)
    if not cmd or os.path.basename(cmd[0]) != "claude":
        cmd = ["claude"] + cmd
    return spawn_process(cmd, process_id=process_id, **options)


def list_processes(status=None):
    """Every process the daemon knows, optionally only those with ``status``."""
    return request("list_processes", status=status)


def process_info(process_id):
    """One process record."""
    return request("process_info", process_id=process_id)


def read_output(process_id, **options):
    """Captured output; options: stream, offset, max_bytes, tail_lines, encoding."""
    return request("read_output", process_id=process_id, **options)


def wait_process(process_id, timeout_s=None):
    """Waits until the process ends (or ``timeout_s`` passes) and returns its record."""
    return request("wait_process", process_id=process_id, timeout_s=timeout_s)


def kill_process(process_id, signal=None, grace_s=None):
    """Stops a process tree (SIGTERM, then SIGKILL after ``grace_s``)."""
    return request("kill_process", process_id=process_id, signal=signal, grace_s=grace_s)


def remove_process(process_id):
    """Forgets an ended process and deletes its output."""
    return request("remove_process", process_id=process_id)


def load_module(module_name):
    """Loads or reloads a module; returns its version and functions."""
    return request("load_module", module_name=module_name)


def call_function(module_name, function_name, args=None, kwargs=None, timeout_s=None):
    """Calls a module's function and returns its return value."""
    return request("call_function", module_name=module_name, function_name=function_name, args=list(args or []), kwargs=kwargs, timeout_s=timeout_s)


def list_modules():
    """Loaded modules with their versions, functions and last load error."""
    return request("list_modules")


def unload_module(module_name):
    """Unloads a module."""
    return request("unload_module", module_name=module_name)


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2:
        sys.stderr.write("usage: client.py COMMAND [JSON_PARAMS]\n")
        sys.exit(2)
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    print(json.dumps(send_command(sys.argv[1], **params)))
