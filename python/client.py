#!/usr/bin/env python3
"""A standard-library-only client and command line for claude-daemon.

Usable from any Python script (copy this one file next to it, or put this directory on
``sys.path``) and inside Python modules hosted by the daemon, where it is importable as ``client``::

    from client import spawn_claude_process, claude_result, call_function
    run = spawn_claude_process(['claude', '-p', 'analyze'])      # a tracked claude run
    print(claude_result(run['process_id'], wait=True)['result'])
    call_function('other_module', 'fn', ['arg'])

Each helper sends one JSON line to the daemon's Unix socket (``--socket`` / :data:`SOCKET_PATH`,
then ``CLAUDE_DAEMON_SOCKET``, then ``/tmp/claude_daemon.sock``) on a fresh connection and returns
the reply's ``result``. A reply with ``success: false`` raises :class:`DaemonError` carrying the
stable ``code``; no daemon, a lost connection or a timeout raises :class:`ClientError` (a
``ConnectionError``). ``send_command`` is the raw primitive: it returns the reply object as the
daemon sent it and never raises on ``success: false``. Parameter names are the wire's (see
docs/protocol.md).

As a script it is the same command line as ``claude-daemon``'s client verbs::

    python3 client.py ping
    python3 client.py call example hello Claude
    python3 client.py spawn claude -p "test command"
    python3 client.py list
    python3 client.py --help

Exit codes: 0 ok, 1 the daemon answered with an error (code and message on stderr), 2 usage error,
3 no daemon reachable, 124 a wait timed out (``wait``/``result --timeout``, a call past its timeout,
``request --timeout``); ``wait`` exits with the process's own code (128+N for signal N). With
``--json`` a failure is one line on stdout: ``{"success": false, "code": ..., "error": ...}``.
"""
import json
import threading
import os
import re
import socket
import sys
import time

DEFAULT_SOCKET_PATH = "/tmp/claude_daemon.sock"

#: When set, the socket every helper uses (the command line's ``--socket`` sets it).
SOCKET_PATH = None

__all__ = [
    "DaemonError",
    "ClientError",
    "send_command",
    "request",
    "ping",
    "shutdown",
    "spawn_process",
    "spawn_claude_process",
    "spawn_claude",
    "claude_result",
    "claude_params_from_argv",
    "list_processes",
    "current_process_id",
    "process_info",
    "read_output",
    "wait_process",
    "kill_process",
    "kill_processes",
    "remove_process",
    "clean",
    "load_module",
    "call_function",
    "list_modules",
    "unload_module",
    "main",
]


class DaemonError(Exception):
    """The daemon answered ``success: false``; ``code`` is the stable error code (e.g. CALL_TIMEOUT)."""

    def __init__(self, code, message, command):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.command = command


class ClientError(ConnectionError):
    """Nothing was answered: ``kind`` is NO_DAEMON, CONNECTION_LOST, TIMEOUT or BAD_REPLY."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def socket_path(explicit=None):
    """The socket the daemon listens on: argument, SOCKET_PATH, $CLAUDE_DAEMON_SOCKET, the default."""
    return explicit or SOCKET_PATH or os.environ.get("CLAUDE_DAEMON_SOCKET") or DEFAULT_SOCKET_PATH


def send_command(command, socket_path_=None, timeout=None, **params):
    """Sends one command and returns the daemon's reply object (``{"success": ..., ...}``).

    ``timeout`` (seconds) bounds the whole exchange; None waits as long as the command takes.
    """
    message = dict(params)
    message["command"] = command
    path = socket_path(socket_path_)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError, PermissionError, NotADirectoryError) as e:
            raise ClientError("NO_DAEMON", "no claude-daemon is running on %s (%s); start one with `npx claude-daemon start`" % (path, e.strerror or e)) from e
        except socket.timeout as e:
            raise ClientError("NO_DAEMON", "no answer from a daemon on %s within %s s" % (path, timeout)) from e
        chunks = []
        try:
            sock.sendall((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\n" in chunk:
                    break
        except socket.timeout as e:
            raise ClientError("TIMEOUT", "%s got no reply within %s s" % (command, timeout)) from e
        except OSError as e:
            raise ClientError("CONNECTION_LOST", "the connection to the daemon broke during %s (%s)" % (command, e)) from e
        line = b"".join(chunks).split(b"\n", 1)[0]
        if not line.strip():
            raise ClientError("CONNECTION_LOST", "the daemon closed the connection without replying to %s" % command)
        try:
            return json.loads(line.decode("utf-8"))
        except ValueError as e:
            raise ClientError("BAD_REPLY", "the daemon's reply to %s is not JSON: %s" % (command, e)) from e
    finally:
        sock.close()


def request(command, timeout=None, **params):
    """Sends one command and returns its ``result``; raises DaemonError on ``success: false``.

    Parameters that are None are left out, so the daemon applies its defaults.
    """
    clean = {k: v for k, v in params.items() if v is not None}
    return _result(command, send_command(command, timeout=timeout, **clean))


def _result(command, reply):
    """A reply's ``result``; DaemonError on ``success: false``, ClientError on a malformed reply."""
    if not isinstance(reply, dict) or "success" not in reply:
        raise ClientError("BAD_REPLY", "the daemon's reply to %s has no success field: %r" % (command, reply))
    if not reply.get("success"):
        raise DaemonError(reply.get("code", "UNKNOWN"), reply.get("error", "unknown error"), command)
    return reply.get("result")


def watch(since_seq=None, process_ids=None, types=None, socket_path_=None):
    """Yields the daemon's event lines (dicts with ``event``, ``seq``, ``time``, ``type``, ``data``).

    Keeps one connection open: first the events journaled after ``since_seq`` (then a ``caught_up``
    notice), then live ones, until the caller stops iterating (the connection is closed) or the
    daemon drops the watch (an ``overflow`` notice, the last item). ``types`` absent: every type
    but ``output``. Raises DaemonError if the daemon refuses the watch, ClientError if the connection
    is lost. Resume after a loss with ``since_seq`` = the last ``seq`` seen.
    """
    params = {"command": "watch", "id": "watch"}
    if since_seq is not None:
        params["since_seq"] = since_seq
    if process_ids is not None:
        params["process_ids"] = list(process_ids)
    if types is not None:
        params["types"] = list(types)
    path = socket_path(socket_path_)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError, PermissionError, NotADirectoryError) as e:
            raise ClientError("NO_DAEMON", "no claude-daemon is running on %s (%s); start one with `npx claude-daemon start`" % (path, e.strerror or e)) from e
        sock.sendall((json.dumps(params) + "\n").encode("utf-8"))
        buf = b""
        while True:
            try:
                chunk = sock.recv(1 << 16)
            except OSError as e:
                raise ClientError("CONNECTION_LOST", "the connection to the daemon broke while watching (%s)" % e) from e
            if not chunk:
                raise ClientError("CONNECTION_LOST", "the daemon closed the connection while watching")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                msg = json.loads(line.decode("utf-8"))
                if isinstance(msg, dict) and msg.get("event") is True:
                    yield msg
                    if msg.get("type") == "overflow":
                        return
                elif isinstance(msg, dict) and msg.get("id") == "watch" and not msg.get("success"):
                    raise DaemonError(msg.get("code", "UNKNOWN"), msg.get("error", "unknown error"), "watch")
    finally:
        sock.close()


def ping():
    """The daemon's identity: version, pid, uptime, socket, state and modules directories."""
    return request("ping")


def shutdown(kill_processes=False):
    """Stops the daemon; its children keep running (re-adopted next start) unless ``kill_processes``."""
    return request("shutdown", kill_processes=bool(kill_processes))


#: The variable the daemon sets in every child's environment: the child's own process id.
PROCESS_ID_ENV = "CLAUDE_DAEMON_PROCESS_ID"


def current_process_id():
    """The id of the tracked process this code runs in (``$CLAUDE_DAEMON_PROCESS_ID``), or None.

    Inside a module call (the module host runs each call in its own thread and names on it the process
    the call was made for, ``call_function(parent=...)``), that process, or None for a call made for none.
    """
    call = getattr(threading.current_thread(), "claude_daemon_call", None)
    v = (call.get("parent") or "") if isinstance(call, dict) else os.environ.get(PROCESS_ID_ENV, "")
    ok = 0 < len(v) <= 64 and v not in (".", "..") and all(c.isalnum() and c.isascii() or c in "._-" for c in v)
    return v if ok else None


def _with_parent(options):
    """Lineage: ``parent`` defaults to the tracked process this code runs in; ``parent=False`` sends none."""
    if options.get("parent") is False:
        options.pop("parent")
    elif options.get("parent") is None:
        options["parent"] = current_process_id()
    return options


def spawn_process(cmd, process_id=None, **options):
    """Starts ``cmd`` (a list of strings) under the daemon and returns its record.

    Options: cwd, env, stdin, timeout_s, name, descendants_grace_s, keep_descendants; the scheduling
    ones: group, priority, after (list of ids), after_condition ("success" or "ended"),
    start_after_s, start_at (ISO 8601), retry ({"max": N, "backoff_s", "backoff_factor",
    "max_backoff_s", "on": [exit codes, "api_error", "stall", "timeout"], "resume"}: a failed attempt
    starts again, the record keeps ``attempts``); idempotency_key (a record not yet removed that holds it is
    returned, ``deduplicated: True``, and nothing starts) and parent (default:
    ``$CLAUDE_DAEMON_PROCESS_ID``, the tracked process this runs in; ``parent=False`` for none).
    """
    if isinstance(cmd, str):
        cmd = [cmd]
    return request("spawn_process", cmd=list(cmd), process_id=process_id, **_with_parent(options))


# claude's flags (from `claude --help`) by how many values they take, so a command line can be read
# the way claude itself reads it: which token is the prompt, which are values of flags.
_CLAUDE_ONE_VALUE = {
    "--agent", "--agents", "--append-system-prompt", "--append-system-prompt-file", "--debug-file",
    "--effort", "--fallback-model", "--input-format", "--json-schema", "--max-budget-usd",
    "--max-turns", "--model", "-n", "--name", "--output-format", "--permission-mode",
    "--permission-prompt-tool", "--plugin-dir", "--plugin-url", "--remote-control-session-name-prefix",
    "--session-id", "--setting-sources", "--settings", "--system-prompt", "--system-prompt-file",
}
_CLAUDE_OPTIONAL_VALUE = {"-d", "--debug", "--from-pr", "--prompt-suggestions", "--remote-control", "-r", "--resume", "-w", "--worktree"}
_CLAUDE_VARIADIC = {
    "--add-dir", "--allowedTools", "--allowed-tools", "--betas", "--disallowedTools", "--disallowed-tools",
    "--file", "--mcp-config", "--tools",
}
# Flags that become typed spawn_claude parameters (the rest pass through as extra_args).
_CLAUDE_TYPED = {
    "--model": "model", "--system-prompt": "system_prompt", "--append-system-prompt": "append_system_prompt",
    "--permission-mode": "permission_mode", "--session-id": "session_id", "--resume": "resume", "-r": "resume",
    "--allowedTools": "allowed_tools", "--allowed-tools": "allowed_tools",
    "--disallowedTools": "disallowed_tools", "--disallowed-tools": "disallowed_tools", "--mcp-config": "mcp_config",
}
_CLAUDE_NAMES = ("claude", "claude.exe")


def claude_params_from_argv(cmd):
    """Reads a ``claude`` command line into ``spawn_claude`` parameters.

    ``['claude', '-p', '--model', 'opus', 'analyze this']`` gives ``{'prompt': 'analyze this',
    'model': 'opus'}``. ``-p``/``--print``, ``--verbose`` and ``--output-format`` are dropped (the
    daemon always runs ``-p --output-format stream-json --verbose``, which is what lets it track the
    run); ``--model``, ``--system-prompt``, ``--append-system-prompt``, ``--permission-mode``,
    ``--max-turns``, ``--resume``, ``--session-id``, ``--allowedTools``, ``--disallowedTools`` and
    ``--mcp-config`` become typed parameters; every other flag passes through in ``extra_args``.
    A first element that is a path to claude (``/opt/bin/claude``) runs that binary (as
    ``env['CLAUDE_BIN']``); a bare ``claude`` is resolved by the daemon (its ``CLAUDE_BIN``, else
    ``PATH``). A list that does not start with claude is taken as claude's arguments.
    Raises ValueError when there is no prompt or more than one.
    """
    if isinstance(cmd, str):
        cmd = [cmd]
    cmd = [str(a) for a in cmd]
    params = {}
    if cmd and os.path.basename(cmd[0]) in _CLAUDE_NAMES:
        if os.sep in cmd[0]:
            params["env"] = {"CLAUDE_BIN": os.path.abspath(cmd[0])}
        cmd = cmd[1:]
    extra, prompts = [], []
    i = 0
    while i < len(cmd):
        a = cmd[i]
        i += 1
        if a == "--":
            prompts.extend(cmd[i:])
            break
        if not a.startswith("-") or a == "-":
            prompts.append(a)
            continue
        flag, eq, inline = a.partition("=")
        if flag in ("-p", "--print", "--verbose"):
            continue
        if not flag.startswith("--") and len(flag) > 2 and not eq:
            rest = flag.replace("p", "")  # bundled short flags such as -cp: -p is implied anyway
            if rest != flag:
                if rest != "-":
                    extra.append(rest)
                continue
        values = [inline] if eq else []
        if not eq and flag in _CLAUDE_ONE_VALUE and i < len(cmd):
            values, i = [cmd[i]], i + 1
        elif not eq and flag in _CLAUDE_OPTIONAL_VALUE and i < len(cmd) and not cmd[i].startswith("-"):
            values, i = [cmd[i]], i + 1
        elif not eq and flag in _CLAUDE_VARIADIC:
            while i < len(cmd) and not cmd[i].startswith("-"):
                values.append(cmd[i])
                i += 1
        if flag == "--output-format":
            continue
        key = _CLAUDE_TYPED.get(flag)
        if flag == "--max-turns" and len(values) == 1 and values[0].isdigit() and int(values[0]) > 0:
            params["max_turns"] = int(values[0])
        elif key in ("allowed_tools", "disallowed_tools", "mcp_config") and values:
            params[key] = params.get(key, []) + values
        elif key is not None and len(values) == 1 and values[0]:
            params[key] = values[0]
        else:
            extra.append(a if eq else flag)
            if not eq:
                extra.extend(values)
    if not prompts:
        raise ValueError("the claude command line has no prompt: give it as the last argument, e.g. ['claude', '-p', 'analyze src/']")
    if len(prompts) > 1:
        raise ValueError("the claude command line has more than one prompt (%s): quote the prompt as one argument" % ", ".join(repr(p) for p in prompts))
    params["prompt"] = prompts[0]
    if extra:
        params["extra_args"] = extra
    return params


def spawn_claude_process(cmd, process_id=None, **options):
    """Starts a tracked ``claude`` run from a command line: ``spawn_claude_process(['claude', '-p', 'analyze'])``.

    The command line is read by :func:`claude_params_from_argv` and sent as ``spawn_claude``, so the
    record carries the live ``claude`` object (state, cost, verdict) and :func:`claude_result`
    works. ``options`` are ``spawn_claude`` parameters (cwd, env, name, timeout_s, stall_timeout_s,
    model, ...) and win over the command line; ``extra_args`` are appended. ``stdin`` is taken as
    the prompt when the command line has none. Returns the process record.
    """
    stdin = options.pop("stdin", None)
    try:
        params = claude_params_from_argv(cmd)
    except ValueError:
        if stdin is None:
            raise
        params = claude_params_from_argv(list(cmd) + ["--", stdin])
        stdin = None
    if stdin is not None:
        raise ValueError("give the prompt on the command line or as stdin, not both")
    env = dict(params.pop("env", {}))
    env.update(options.pop("env", None) or {})
    extra = params.pop("extra_args", []) + list(options.pop("extra_args", None) or [])
    params.update({k: v for k, v in options.items() if v is not None})
    prompt = params.pop("prompt")
    return spawn_claude(prompt, process_id=process_id, env=env or None, extra_args=extra or None, **params)


def spawn_claude(prompt=None, **options):
    """Starts ``claude -p PROMPT`` as a tracked run and returns its record (with the ``claude`` object).

    ``interactive=True`` starts a live session instead (docs/sessions.md): ``prompt`` is then
    optional, more turns go by :func:`send_message`, and ``idle_timeout_s`` closes it when idle.
    ``permissions="ask"`` (implies ``interactive``) routes claude's permission prompts to the caller:
    they show in the record's ``claude["pending_permissions"]``; answer them with
    :func:`answer_permission` (unanswered after ``permission_timeout_s``, default 300, they are denied);
    ``auto_allow`` / ``auto_deny`` (lists of claude rules such as ``"Bash(git *)"``) answer matching ones at once.

    Options are the wire's: process_id, cwd, env, name, model, system_prompt, append_system_prompt,
    allowed_tools, disallowed_tools, permission_mode, max_turns, mcp_config, resume, session_id,
    stall_timeout_s, timeout_s, extra_args, the scheduling ones as for :func:`spawn_process`
    (group, priority, after, after_condition, start_after_s, start_at), idempotency_key, parent (as
    :func:`spawn_process`), ignore_hold (start despite a usage-limit hold), limit_resume_prompt (the
    prompt of its resumption after a usage limit). The daemon finds claude (its ``CLAUDE_BIN``, else PATH).
    """
    return request("spawn_claude", prompt=prompt, **_with_parent(options))


def claude_result(process_id, wait=False, timeout_s=None, turn=None):
    """A claude run's final text and verdict: ``{result, is_error, subtype, api_error_status, ...}``.

    With ``wait`` it answers once the run has ended (or ``timeout_s`` passed: ``timed_out: True``).
    With ``turn`` (a live session's turn number) it answers for that turn, and ``wait`` waits for
    that turn's end; the reply's ``turn`` holds its state, cost and times.
    """
    return request("claude_result", process_id=process_id, turn=turn, wait=True if wait else None, timeout_s=timeout_s)


def send_message(process_id, text):
    """Queues a user turn for a live session (``spawn_claude(..., interactive=True)``): ``{turn, queued}``.

    It runs after the running turn (and those queued before it) have ended, in order.
    """
    return request("send_message", process_id=process_id, text=text)


def interrupt(process_id):
    """Stops a live session's running turn (the session stays): ``{turn, interrupted}``."""
    return request("interrupt", process_id=process_id)


def close_input(process_id):
    """Ends a live session once its queued turns have run (claude exits 0): ``{pending_turns, closed_now}``."""
    return request("close_input", process_id=process_id)


def answer_permission(process_id, request_id, behavior, updated_input=None, message=None):
    """Allows (``behavior="allow"``) or denies (``"deny"``) a pending permission prompt of a
    ``permissions="ask"`` run: ``{process_id, request_id, tool_name, behavior}``.

    Allow runs the tool with ``updated_input`` (default: the input claude asked with); deny tells
    claude ``message``. An unknown or already answered ``request_id`` raises DaemonError
    ``PERMISSION_NOT_FOUND``.
    """
    return request("answer_permission", process_id=process_id, request_id=request_id, behavior=behavior,
                   updated_input=updated_input, message=message)


def list_processes(status=None, parent=None, limit=None, cursor=None):
    """Every process the daemon knows (``{processes, totals}``), optionally only those with ``status``
    or only the children of ``parent``.

    With ``limit``: at most that many, and ``next_cursor`` to pass as ``cursor`` for the next page
    (None on the last page).
    """
    return request("list_processes", status=status, parent=parent, limit=limit, cursor=cursor)


def process_info(process_id):
    """One process record."""
    return request("process_info", process_id=process_id)


def read_output(process_id, **options):
    """Captured output; options: stream, offset, max_bytes, tail_lines, encoding, attempt (records with retries)."""
    return request("read_output", process_id=process_id, **options)


def wait_process(process_id, timeout_s=None):
    """Waits until the process ends (or ``timeout_s`` passes: ``timed_out: True``) and returns its record."""
    return request("wait_process", process_id=process_id, timeout_s=timeout_s)


def kill_process(process_id, signal=None, grace_s=None, cascade=False):
    """Stops a process tree (SIGTERM, then SIGKILL after ``grace_s``; claude runs get SIGINT first).

    With ``cascade``, every descendant (records spawned with it as parent) is ended first, deepest first.
    """
    return request("kill_process", process_id=process_id, signal=signal, grace_s=grace_s, cascade=True if cascade else None)


def kill_processes(process_ids, signal=None, grace_s=None):
    """Stops many process trees at once (one ``kill_process`` with ``process_ids``: every first signal
    goes out before any end is handled); returns their records, in the order given, once all ended."""
    return request("kill_process", process_ids=list(process_ids), signal=signal, grace_s=grace_s)["processes"]


def remove_process(process_id, cascade=False):
    """Forgets an ended process and deletes its output. Refused (PROCESS_HAS_DESCENDANTS) while a
    descendant is queued or running, unless ``cascade``: then the whole subtree is ended and removed."""
    return request("remove_process", process_id=process_id, cascade=True if cascade else None)


def clean(status=None, group=None, older_than_s=None):
    """Removes ended records (all, or by statuses, group, age) and their output: ``{removed, process_ids}``."""
    return request("clean", status=list(status) if status is not None else None, group=group, older_than_s=older_than_s)


def group_set(group, parallel=None, paused=None, budget_usd=None, clear_budget=False):
    """Creates or changes a scheduling group: ``parallel`` (0 = unlimited), ``paused``, and/or
    ``budget_usd`` (dollars: its queued claude runs are held once its runs have spent it; raising it
    releases them); ``clear_budget=True`` removes the budget. Returns its figures (``spent_usd`` too)."""
    if clear_budget:
        if budget_usd is not None:
            raise ValueError("give budget_usd or clear_budget, not both")
        # An explicit null clears it (request() leaves None out).
        clean = {k: v for k, v in {"group": group, "parallel": parallel, "paused": paused}.items() if v is not None}
        return _result("group_set", send_command("group_set", budget_usd=None, **clean))
    return request("group_set", group=group, parallel=parallel, paused=paused, budget_usd=budget_usd)


def group_list():
    """Every scheduling group: parallel, paused, running, queued, waiting, held (why its queue waits)."""
    return request("group_list")["groups"]


def load_module(module_name):
    """Loads or reloads a module; returns its version and functions."""
    return request("load_module", module_name=module_name)


def call_function(module_name, function_name, args=None, kwargs=None, timeout_s=None, parent=None):
    """Calls a module's function and returns its return value (``timeout_s`` default 30 on the daemon).

    ``parent`` as for spawn_process (default: the tracked process this runs in; ``False``: none): spawns
    the function makes record it.
    """
    return request("call_function", module_name=module_name, function_name=function_name, args=list(args or []), kwargs=kwargs, timeout_s=timeout_s, **_with_parent({"parent": parent}))


def list_modules():
    """Loaded modules with their versions, functions and last load error."""
    return request("list_modules")


def unload_module(module_name):
    """Unloads a module."""
    return request("unload_module", module_name=module_name)


# ---------------------------------------------------------------------------------------------
# The command line. Everything below only runs as a script (or through main()).

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NO_DAEMON, EXIT_TIMED_OUT = 0, 1, 2, 3, 124


class UsageError(Exception):
    """A usage mistake: exit code 2 with the verb's usage line."""


class _Done(Exception):
    """Ends a verb early with an exit code (help printed, ...)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _out(text):
    sys.stdout.write(text)


def _err(text):
    sys.stderr.write(text)


def _json_line(value):
    _out(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def _duration(ms):
    """850ms, 12.3s, 4m05s, 2h07m (as the TypeScript CLI prints them)."""
    if ms < 1000:
        return "%dms" % round(ms)
    s = ms / 1000.0
    if s < 60:
        return "%.1fs" % s
    m = int(s // 60)
    if m < 60:
        return "%dm%02ds" % (m, int(s % 60))
    return "%dh%02dm" % (m // 60, m % 60)


def _epoch_ms(iso):
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def _table(headers, rows):
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c if i == len(cells) - 1 else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in rows]) + "\n"


def _shell_quote(args, limit=None):
    import re

    s = " ".join(a if re.match(r"^[A-Za-z0-9_./:=@%+,-]+$", a) else "'" + a.replace("'", "'\\''") + "'" for a in args)
    return s[: limit - 1] + "\u2026" if limit and len(s) > limit else s


def _status(r):
    if r["status"] == "exited":
        return "exited %s" % (r.get("exit_code") if r.get("exit_code") is not None else "?")
    if r["status"] == "killed":
        return "killed %s" % r["signal"] if r.get("signal") else "killed"
    return r["status"]


def _cost(c):
    """`$0.0012` (four significant digits, as the TypeScript CLI), or `$-` before a cost is known."""
    if not isinstance(c, (int, float)) or isinstance(c, bool):
        return "$-"
    v = float("%.4g" % c)
    return "$%s" % (int(v) if v.is_integer() else repr(v))


def _claude_state(c):
    return "%s (error)" % c.get("state") if c.get("is_error") is True else str(c.get("state"))


def _time_cell(r, now):
    if r["status"] == "queued":
        return "queued " + _duration(now - _epoch_ms(r["created_at"])) + (": " + r["held"] if r.get("held") else "")
    if r["status"] == "running" and r.get("started_at"):
        return _duration(now - _epoch_ms(r["started_at"]))
    return "-" if r.get("duration_ms") is None else _duration(r["duration_ms"])


def _command_cell(r, limit=80):
    c = r.get("claude")
    if not c:
        return _shell_quote(r["cmd"], limit)
    prompt = r["cmd"][-1] if r["cmd"] else ""
    head = "claude %s %s " % (_claude_state(c), _cost(c.get("total_cost_usd")))
    room = max(8, limit - len(head) - 2)
    if len(prompt) > room:
        prompt = prompt[: room - 1] + "\u2026"
    return head + "'" + " ".join(prompt.split()) + "'"


def _record_block(r):
    lines = [("id", r["process_id"]), ("status", _status(r)), ("pid", "-" if r.get("pid") is None else str(r["pid"])), ("command", _shell_quote(r["cmd"])), ("cwd", r["cwd"])]
    if r.get("name") is not None:
        lines.append(("name", r["name"]))
    if r.get("group") is not None and (r["group"] != "default" or r.get("priority", 0) != 0):
        lines.append(("group", r["group"] + (" (priority %s)" % r["priority"] if r.get("priority", 0) != 0 else "")))
    if r.get("after") is not None:
        lines.append(("after", "%s (%s)" % (", ".join(r["after"]), r.get("after_condition", "success"))))
    if r.get("start_at") is not None:
        lines.append(("start at", r["start_at"]))
    if r.get("held"):
        lines.append(("held", r["held"]))
    lines.append(("created", r["created_at"]))
    for key, label in (("started_at", "started"), ("ended_at", "ended")):
        if r.get(key):
            lines.append((label, r[key]))
    if r.get("duration_ms") is not None:
        lines.append(("duration", _duration(r["duration_ms"])))
    lines.append(("output", "%s bytes stdout, %s bytes stderr" % (r.get("stdout_bytes", 0), r.get("stderr_bytes", 0))))
    if r.get("timeout_s") is not None:
        lines.append(("timeout", "%ss" % r["timeout_s"]))
    if r.get("reason") is not None:
        lines.append(("reason", r["reason"]))
    if r.get("parent"):
        lines.append(("parent", r["parent"]))
    if r.get("idempotency_key"):
        lines.append(("idempotency key", r["idempotency_key"]))
    c = r.get("claude")
    if c:
        lines.append(("claude", "%s, %s turns, %s%s" % (_claude_state(c), c.get("num_turns", 0), _cost(c.get("total_cost_usd")), ", model %s" % c["model"] if c.get("model") else "")))
        if c.get("session_id"):
            lines.append(("session", c["session_id"]))
        if c.get("error"):
            lines.append(("error", str(c["error"])))
        if c.get("subtype"):
            lines.append(("subtype", c["subtype"] + (" (API error %s)" % c["api_error_status"] if c.get("api_error_status") is not None else "")))
        text = c.get("result") if c.get("result") is not None else c.get("last_text")
        if text:
            lines.append(("result" if c.get("result") is not None else "last text", text if len(text) <= 200 else text[:199] + "\u2026"))
    w = max(len(k) for k, _ in lines)
    return "".join("%s %s\n" % ((k + ":").ljust(w + 1), v) for k, v in lines)


def _mirrored_exit(r):
    """The exit code `wait` mirrors: the child's code, 128+N for signal N (143 when killed while
    queued: it never ran), 127 it could not start, 1 its outcome was lost, 124 the wait timed out."""
    import signal as signals

    if r.get("timed_out"):
        return EXIT_TIMED_OUT
    if r["status"] == "exited":
        return r["exit_code"] if r.get("exit_code") is not None else 1
    if r["status"] == "killed":
        if not r.get("signal"):
            return 128 + int(signals.SIGTERM)  # killed while queued: it never ran
        n = getattr(signals, str(r["signal"]), None)
        return 128 + int(n) if n is not None else 137
    if r["status"] == "failed":
        return 127
    return 1


def _json_or_text(text):
    """A CLI argument: JSON when it parses (42, true, [1], {"a": 1}), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _number(value, flag, minimum=0.0, integer=False, positive=False):
    if value is None:
        return None
    try:
        n = int(value) if integer else float(value)
    except ValueError:
        n = None
    if n is None or n != n or n in (float("inf"), float("-inf")) or n < minimum or (positive and n <= 0):
        raise UsageError("%s takes a %snumber %s, not '%s'" % (flag, "whole " if integer else "", "above 0" if positive else "of at least %g" % minimum, value))
    return n


def _one_id(pos):
    if len(pos) != 1:
        raise UsageError("give a process id" if not pos else "give exactly one process id")
    return pos[0]


def _env_pairs(values, flag="--env"):
    env = {}
    for kv in values or []:
        key, eq, val = kv.partition("=")
        if not eq or not key:
            raise UsageError("%s takes KEY=VALUE, not '%s'" % (flag, kv))
        env[key] = val
    return env


def _signal_name(value):
    """--signal 9, KILL, SIGKILL or kill, as the daemon's name."""
    if value is None:
        return None
    if value.isdigit():
        import signal as signals

        try:
            return signals.Signals(int(value)).name
        except ValueError:
            raise UsageError("--signal %s is not a signal number" % value)
    return value


def _print_result(ctx, pid, r):
    """A claude_result for people (text on stdout, why it failed on stderr) or as JSON; the exit code."""
    if ctx["json"]:
        out = {"process_id": pid}
        out.update(r)
        _json_line(out)
    else:
        if r.get("result") is not None:
            _out(r["result"] if r["result"].endswith("\n") else r["result"] + "\n")
        if r.get("running"):
            _err("%s is still running (%s)\n" % (pid, r.get("state")))
        elif r.get("is_error") is True:
            _err("%s failed: %s\n" % (pid, _failure(r)))
    if r.get("running"):
        return EXIT_TIMED_OUT
    return EXIT_ERROR if r.get("is_error") is True else EXIT_OK


def _failure(r):
    if r.get("error"):
        why = str(r["error"])
    elif r.get("api_error_status") is not None:
        why = "API error %s" % r["api_error_status"]
    elif r.get("subtype") and r["subtype"] != "success":
        why = r["subtype"]
    else:
        why = "it ended without a result line"
    return why + " (stalled: stopped by the stall watchdog)" if r.get("state") == "stalled" else why


def _is_claude_print(cmd):
    if not cmd or os.path.basename(cmd[0]) not in _CLAUDE_NAMES:
        return False
    for a in cmd[1:]:
        if a == "--":
            return False
        if a in ("-p", "--print") or (len(a) > 2 and a[0] == "-" and a[1] != "-" and "p" in a):
            return True
    return False


# --- verbs --------------------------------------------------------------------------------------


def _keeper_text(r):
    """The ping line's keeper part, as the TypeScript CLI prints it (empty for a daemon that does not say)."""
    if "keeper" not in r:
        return ""
    k = r["keeper"]
    if k is None:
        return ", no keeper"
    if not k.get("restarts"):
        return ", keeper pid %s" % k.get("pid")
    n = k["restarts"]
    return ", keeper pid %s (%s restart%s, last after %s)" % (k.get("pid"), n, "" if n == 1 else "s", k.get("last_death") or "an unknown end")


def v_ping(ctx):
    r = ping()
    if ctx["json"]:
        _json_line(r)
    else:
        limit = "" if "max_running" not in r else "no max running, " if r["max_running"] is None else "max running %s, " % r["max_running"]
        _out("pong: claude-daemon %s, pid %s, up %s, %ssocket %s%s\n" % (r.get("version"), r.get("pid"), _duration(r.get("uptime_s", 0) * 1000), limit, r.get("socket"), _keeper_text(r)))
        hold = r.get("claude_hold") or {}
        if hold.get("reason"):
            _out(hold["reason"] + "\n")
    return EXIT_OK


def v_shutdown(ctx):
    r = shutdown(kill_processes=ctx["opts"].get("kill-processes", False))
    if ctx["json"]:
        _json_line(r)
    else:
        _out("daemon shutting down%s\n" % (" (killing its processes)" if r.get("kill_processes") else ""))
    return EXIT_OK


def v_spawn(ctx):
    o, cmd = ctx["opts"], ctx["pos"]
    if not cmd:
        raise UsageError("give the command to run, e.g. `spawn sleep 10` or `spawn --id build -- make`")
    params = {"cwd": os.path.abspath(o.get("cwd", ".")), "process_id": o.get("id"), "name": o.get("name")}
    params["timeout_s"] = _number(o.get("timeout"), "--timeout", positive=True)
    params.update(_lineage_flags(o))
    params.update(_schedule_params(o))
    env = _env_pairs(o.get("env"))
    if env:
        params["env"] = env
    if _is_claude_print(cmd):
        try:
            r = spawn_claude_process(cmd, stdin=o.get("stdin"), **params)
        except ValueError as e:
            raise UsageError(str(e))
    else:
        r = spawn_process(cmd, stdin=o.get("stdin"), **params)
    if ctx["json"]:
        _json_line(r)
    elif r.get("deduplicated"):
        _out("%s already exists for that idempotency key (%s): %s\n" % (r["process_id"], _status(r), _shell_quote(r["cmd"], 80)))
    elif r["status"] == "skipped":
        _out("%s skipped: %s\n" % (r["process_id"], r.get("reason") or ""))
    elif r["status"] == "queued":
        why = r.get("held") if r.get("after") or r.get("start_at") or r.get("group", "default") != "default" else None
        _out("%s queued%s: %s\n" % (r["process_id"], " (%s)" % why if why else "", _shell_quote(r["cmd"], 80)))
    else:
        _out("%s running (pid %s): %s\n" % (r["process_id"], r.get("pid"), _shell_quote(r["cmd"], 80)))
    return EXIT_OK


_STATUSES = ("queued", "running", "exited", "killed", "failed", "lost", "skipped")


def _schedule_params(o):
    """The scheduling flags of spawn and claude as wire parameters (None where not given)."""
    p = {"group": o.get("group"), "after_condition": o.get("after-condition"), "start_at": o.get("start-at")}
    p["priority"] = _number(o.get("priority"), "--priority", integer=True, minimum=-1000000)
    p["start_after_s"] = _number(o.get("start-after"), "--start-after")
    if o.get("after"):
        p["after"] = [a for v in o["after"] for a in v.split(",") if a]
    if p["after_condition"] not in (None, "success", "ended"):
        raise UsageError("--after-condition is success or ended, not '%s'" % p["after_condition"])
    p["retry"] = _retry_params(o)
    return {k: v for k, v in p.items() if v is not None}


def _retry_params(o):
    """--retry N and its companions as the wire's ``retry`` object (None without --retry)."""
    n = _number(o.get("retry"), "--retry", integer=True, minimum=1)
    if n is None:
        for f in ("retry-backoff", "retry-on", "retry-resume"):
            if o.get(f) not in (None, False):
                raise UsageError("--%s needs --retry N (how many times to retry)" % f)
        return None
    r = {"max": n}
    backoff = _number(o.get("retry-backoff"), "--retry-backoff")
    if backoff is not None:
        r["backoff_s"] = backoff
    if o.get("retry-on") is not None:
        on = []
        for w in [w for w in o["retry-on"].split(",") if w]:
            if w in ("api_error", "stall", "timeout"):
                on.append(w)
            elif w.isdigit():
                on.append(int(w))
            else:
                raise UsageError("--retry-on takes exit codes and api_error, stall, timeout (comma-separated), not '%s'" % w)
        r["on"] = on
    if o.get("retry-resume"):
        r["resume"] = True
    return r


def v_group(ctx):
    o, pos = ctx["opts"], ctx["pos"]
    if len(pos) > 1:
        raise UsageError("give at most one group name")
    name = pos[0] if pos else None
    parallel = _number(o.get("parallel"), "--parallel", integer=True)
    if o.get("pause") and o.get("resume"):
        raise UsageError("give --pause or --resume, not both")
    budget = o.get("budget")
    clear = budget == "none"
    budget = None if clear else _number(budget, "--budget")
    if parallel is not None or o.get("pause") or o.get("resume") or budget is not None or clear:
        if name is None:
            raise UsageError("name the group to change, e.g. `group batch --parallel 2`")
        groups = [group_set(name, parallel=parallel, paused=True if o.get("pause") else False if o.get("resume") else None, budget_usd=budget, clear_budget=clear)]
    else:
        groups = [g for g in group_list() if name is None or g["group"] == name]
        if name is not None and not groups:
            groups = [{"group": name, "parallel": 0, "paused": False, "running": 0, "queued": 0, "waiting": 0, "held": None, "budget_usd": None, "spent_usd": 0}]
    if ctx["json"]:
        _json_line({"groups": groups} if name is None else groups[0])
        return EXIT_OK
    for g in groups:
        waiting = " (%s waiting for dependencies or a start time)" % g["waiting"] if g["waiting"] else ""
        spent = g.get("spent_usd") or 0
        spend = "; spent $%s of $%s" % (spent, g["budget_usd"]) if g.get("budget_usd") is not None else "; spent $%s" % spent if spent > 0 else ""
        _out("%s: %s%s; %s running, %s queued%s%s%s\n" % (g["group"], "unlimited" if g["parallel"] == 0 else "parallel %s" % g["parallel"], ", paused" if g["paused"] else "",
                                                       g["running"], g["queued"], waiting, spend, "; held: " + g["held"] if g.get("held") else ""))
    return EXIT_OK


def _lineage_flags(o):
    """``--idempotency-key K`` and ``--parent ID`` as spawn parameters (the library adds the automatic parent)."""
    out = {}
    if "idempotency-key" in o:
        if not o["idempotency-key"]:
            raise UsageError("--idempotency-key takes a non-empty value")
        out["idempotency_key"] = o["idempotency-key"]
    if "parent" in o:
        out["parent"] = o["parent"]
    return out


def _tree_order(records):
    """Records in tree order with ids indented under their parent, as `claude-daemon list --tree`."""
    by_id = {r["process_id"]: r for r in records}
    kids = {}
    for r in records:
        if r.get("parent") in by_id:
            kids.setdefault(r["parent"], []).append(r)
    out, seen = [], set()

    def visit(r, depth):
        if r["process_id"] in seen:
            return
        seen.add(r["process_id"])
        out.append(r if depth == 0 else dict(r, process_id="%s\u2514 %s" % ("  " * (depth - 1), r["process_id"])))
        for c in kids.get(r["process_id"], []):
            visit(c, depth + 1)

    for r in records:
        if r.get("parent") not in by_id:
            visit(r, 0)
    for r in records:
        visit(r, 0)
    return out


def v_list(ctx):
    status = ctx["opts"].get("status")
    if status is not None and status not in _STATUSES:
        raise UsageError("--status is one of %s" % ", ".join(_STATUSES))
    limit = ctx["opts"].get("limit")
    if limit is not None and (not limit.isdigit() or int(limit) < 1):
        raise UsageError("--limit takes a whole number of at least 1, not '%s'" % limit)
    r = list_processes(status=status, limit=int(limit) if limit is not None else None, cursor=ctx["opts"].get("cursor"))
    if ctx["json"]:
        _json_line(r)
        return EXIT_OK
    now = time.time() * 1000
    if r["processes"]:
        procs = _tree_order(r["processes"]) if ctx["opts"].get("tree") else r["processes"]
        rows = [[p["process_id"], _status(p), "-" if p.get("pid") is None else str(p["pid"]), _time_cell(p, now), _command_cell(p)] for p in procs]
        _out(_table(["ID", "STATUS", "PID", "TIME", "COMMAND"], rows))
    totals = ["%s claude cost" % _cost(n) if k == "total_cost_usd" else "%s %s" % (n, k) for k, n in r.get("totals", {}).items() if n]
    _out("(%s)\n" % ", ".join(totals) if totals else "no processes\n")
    if r.get("next_cursor"):
        _out("more: list --limit %s --cursor %s\n" % (limit or "", r["next_cursor"]))
    return EXIT_OK


def v_info(ctx):
    r = process_info(_one_id(ctx["pos"]))
    _json_line(r) if ctx["json"] else _out(_record_block(r))
    return EXIT_OK


def v_logs(ctx):
    pid = _one_id(ctx["pos"])
    o = ctx["opts"]
    stream = "stderr" if o.get("stderr") else "stdout"
    tail = _number(o.get("tail"), "--tail", integer=True)
    attempt = _number(o.get("attempt"), "--attempt", integer=True, minimum=1)
    offset, first = None, True
    while True:
        params = {"stream": stream, "max_bytes": 1 << 20}
        if attempt is not None:
            params["attempt"] = attempt
        if offset is not None:
            params["offset"] = offset
        elif first and tail is not None:
            params["tail_lines"] = tail
        r = read_output(pid, **params)
        first = False
        if ctx["json"]:
            if r["data"] or r["eof"]:
                _json_line(r)
        elif r["data"]:
            _out(r["data"])
            sys.stdout.flush()
        progressed = r["next_offset"] != (offset if offset is not None else r["offset"])
        offset = r["next_offset"]
        if r["eof"]:
            return EXIT_OK
        if progressed:
            continue
        if not o.get("follow"):
            return EXIT_OK
        wait_process(pid, timeout_s=0.25)  # nothing new: sleep up to 250 ms, waking when it ends


def v_kill(ctx):
    o = ctx["opts"]
    pos = ctx["pos"]
    if not pos:
        raise UsageError("give a process id")
    sig, grace = _signal_name(o.get("signal")), _number(o.get("grace"), "--grace")
    if len(pos) == 1:
        r = kill_process(pos[0], signal=sig, grace_s=grace, cascade=o.get("cascade", False))
        more = "" if "cascade" not in r else " (with %d descendant%s%s)" % (len(r["cascade"]), "" if len(r["cascade"]) == 1 else "s", ": " + ", ".join(r["cascade"]) if r["cascade"] else "")
        _json_line(r) if ctx["json"] else _out("%s %s%s\n" % (r["process_id"], _status(r), more))
        return EXIT_OK
    if o.get("cascade"):
        raise UsageError("--cascade takes one process id")
    # Several at once: one kill_process with process_ids, one line each.
    rs = kill_processes(pos, signal=sig, grace_s=grace)
    _json_line({"processes": rs}) if ctx["json"] else _out("".join("%s %s\n" % (r["process_id"], _status(r)) for r in rs))
    return EXIT_OK


def v_wait(ctx):
    r = wait_process(_one_id(ctx["pos"]), timeout_s=_number(ctx["opts"].get("timeout"), "--timeout"))
    if ctx["json"]:
        _json_line(r)
    elif r.get("timed_out"):
        _out("%s still %s (timed out)\n" % (r["process_id"], r["status"]))
    elif r["status"] == "killed" and not r.get("signal"):
        _out("%s killed before it started (it never ran)\n" % r["process_id"])
    else:
        _out("%s %s\n" % (r["process_id"], _status(r)))
    return _mirrored_exit(r)


def _event_text(ev):
    d = ev.get("data") or {}
    t = ev.get("type")
    if t == "ended":
        how = "exited %s" % d.get("exit_code") if d.get("status") == "exited" else ("killed %s" % (d.get("signal") or "(never ran)") if d.get("status") == "killed" else str(d.get("status")))
        what = how + (" (%s ms)" % d["duration_ms"] if isinstance(d.get("duration_ms"), (int, float)) else "")
    elif t == "spawned":
        what = " ".join(d.get("cmd") or [])[:80]
    elif t == "started":
        what = "pid %s%s" % (d.get("pid"), " (re-adopted)" if d.get("adopted") else "")
    elif t == "claude_state":
        what = "%s -> %s" % (d.get("previous") or "-", d.get("state"))
    else:
        what = json.dumps(d)[:100]
    seq = "-" if ev.get("seq") is None else str(ev["seq"])
    return ("%s  %s  %s %s %s" % (seq.rjust(6), (ev.get("time") or "")[11:23], t.ljust(13), (ev.get("process_id") or "-").ljust(12), what)).rstrip() + "\n"


def v_events(ctx):
    o = ctx["opts"]
    follow = bool(o.get("follow"))
    since = _number(o.get("since"), "--since", integer=True)
    since = int(since) if since is not None else (None if follow else 0)
    for ev in watch(since_seq=since, process_ids=o.get("process"), types=o.get("type")):
        if ev.get("type") == "caught_up":
            if not follow:
                return EXIT_OK
            continue
        _json_line(ev) if ctx["json"] else _out(_event_text(ev))
        sys.stdout.flush()
    return EXIT_OK


def v_rm(ctx):
    r = remove_process(_one_id(ctx["pos"]), cascade=ctx["opts"].get("cascade", False))
    _json_line(r) if ctx["json"] else _out("removed %s%s\n" % (r["process_id"], " and " + ", ".join(r["cascade"]) if r.get("cascade") else ""))
    return EXIT_OK


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def v_clean(ctx):
    o = ctx["opts"]
    params = {}
    if o.get("status"):
        statuses = [s for v in o["status"] for s in v.split(",")]
        for s in statuses:
            if s not in ("exited", "killed", "failed", "lost"):
                raise UsageError("--status is one of exited, killed, failed, lost (queued and running records are never cleaned)")
        params["status"] = statuses
    if o.get("group") is not None:
        params["group"] = o["group"]
    if o.get("older-than") is not None:
        m = re.match(r"^([0-9]+(?:\.[0-9]+)?)([smhdw]?)$", o["older-than"].strip())
        if m is None:
            raise UsageError("--older-than takes a duration such as 90s, 30m, 12h or 7d, not '%s'" % o["older-than"])
        params["older_than_s"] = float(m.group(1)) * _DURATION_UNITS[m.group(2) or "s"]
    r = clean(**params)
    _json_line(r) if ctx["json"] else _out("removed %d ended record%s\n" % (r["removed"], "" if r["removed"] == 1 else "s"))
    return EXIT_OK


def v_claude(ctx):
    o, pos = ctx["opts"], ctx["pos"]
    if len(pos) != 1:
        raise UsageError("give exactly one PROMPT (quote it); claude flags without an option here go after --")
    params = {"cwd": os.path.abspath(o.get("cwd", ".")), "process_id": o.get("id"), "model": o.get("model"), "name": o.get("name")}
    params["stall_timeout_s"] = _number(o.get("stall"), "--stall", positive=True)
    params["timeout_s"] = _number(o.get("timeout"), "--timeout", positive=True)
    params["max_turns"] = _number(o.get("max-turns"), "--max-turns", integer=True, minimum=1)
    params.update(_lineage_flags(o))
    for flag in ("permission-mode", "system-prompt", "append-system-prompt", "resume", "session-id"):
        params[flag.replace("-", "_")] = o.get(flag)
    for flag in ("allowed-tools", "disallowed-tools", "mcp-config"):
        if o.get(flag):
            params[flag.replace("-", "_")] = o[flag]
    params.update(_schedule_params(o))
    if o.get("ignore-hold"):
        params["ignore_hold"] = True
    params["limit_resume_prompt"] = o.get("limit-resume-prompt")
    env = _env_pairs(o.get("env"))
    if env:
        params["env"] = env
    extra = []
    for flag in ("max-budget-usd", "json-schema"):
        if o.get(flag) is not None:
            extra += ["--" + flag, o[flag]]
    extra += ctx["after_dashdash"]
    if extra:
        params["extra_args"] = extra
    rec = spawn_claude(pos[0], **{k: v for k, v in params.items() if v is not None})
    if not o.get("wait"):
        _json_line(rec) if ctx["json"] else _out(rec["process_id"] + "\n")
        return EXIT_OK
    return _print_result(ctx, rec["process_id"], claude_result(rec["process_id"], wait=True))


def v_result(ctx):
    pid = _one_id(ctx["pos"])
    timeout = _number(ctx["opts"].get("timeout"), "--timeout", positive=True)
    return _print_result(ctx, pid, claude_result(pid, wait=True, timeout_s=timeout))


def v_load(ctx):
    if len(ctx["pos"]) != 1:
        raise UsageError("give exactly one module name")
    r = load_module(ctx["pos"][0])
    if ctx["json"]:
        _json_line(r)
    else:
        fns = "".join("  %s(%s)\n" % (f["name"], ", ".join(f.get("params", []))) for f in r.get("functions", []))
        _out("loaded %s v%s (%s) from %s\n%s" % (r["module"], r["version"], r["language"], r["path"], fns))
    return EXIT_OK


def v_call(ctx):
    pos, o = ctx["pos"], ctx["opts"]
    if len(pos) < 2:
        raise UsageError("give a module and a function name")
    kwargs = None
    if o.get("kwargs") is not None:
        kwargs = _json_or_text(o["kwargs"])
        if not isinstance(kwargs, dict):
            raise UsageError("--kwargs must be a JSON object, e.g. '{\"name\": \"x\"}'")
    timeout = _number(o.get("timeout"), "--timeout", positive=True)
    r = call_function(pos[0], pos[1], [_json_or_text(a) for a in pos[2:]], kwargs=kwargs, timeout_s=timeout)
    if isinstance(r, str) and not ctx["json"]:
        _out(r if r.endswith("\n") else r + "\n")
    else:
        _json_line(r)
    return EXIT_OK


def v_modules(ctx):
    r = list_modules()
    if ctx["json"]:
        _json_line(r)
        return EXIT_OK
    if not r["modules"]:
        _out("no modules loaded\n")
        return EXIT_OK
    now = time.time() * 1000
    rows = [[m["module"], "v%s" % m["version"], m["language"], str(m.get("calls_served", 0)), _duration(now - _epoch_ms(m["loaded_at"])), ", ".join(f["name"] for f in m.get("functions", []))] for m in r["modules"]]
    _out(_table(["MODULE", "VERSION", "LANGUAGE", "CALLS", "AGE", "FUNCTIONS"], rows))
    for m in r["modules"]:
        if m.get("last_error") is not None:
            _out("\n%s: newer file failed to load (v%s keeps serving):\n  %s\n" % (m["module"], m["version"], "\n  ".join(m["last_error"].split("\n"))))
    return EXIT_OK


def v_unload(ctx):
    if len(ctx["pos"]) != 1:
        raise UsageError("give exactly one module name")
    r = unload_module(ctx["pos"][0])
    _json_line(r) if ctx["json"] else _out("unloaded %s (was v%s)\n" % (r["module"], r["version"]))
    return EXIT_OK


def v_request(ctx):
    pos = ctx["pos"]
    if not pos or not pos[0]:
        raise UsageError("missing the command name")
    if len(pos) > 2:
        raise UsageError("unexpected argument '%s' (quote the parameters as one JSON object)" % pos[2])
    params = {}
    if len(pos) == 2:
        try:
            params = json.loads(pos[1])
        except ValueError as e:
            raise UsageError("PARAMS_JSON is not valid JSON: %s" % e)
        if not isinstance(params, dict):
            raise UsageError("PARAMS_JSON must be a JSON object")
    t = _number(ctx["opts"].get("timeout"), "--timeout", integer=True)
    _json_line(request(pos[0], timeout=t / 1000.0 if t else None, **params))
    return EXIT_OK


# name: (function, usage, summary, description, {option: "str" | "bool" | "list"}, extra help lines)
_S, _B, _L = "str", "bool", "list"
_SCHEDULE_OPTS = {"group": _S, "priority": _S, "after": _L, "after-condition": _S, "start-after": _S, "start-at": _S,
                  "retry": _S, "retry-backoff": _S, "retry-on": _S, "retry-resume": _B}
_SCHEDULE_HELP = ["  --group G, --priority N      scheduling group (default \"default\") and priority within it (default 0)",
                  "  --after ID (repeatable), --after-condition success|ended   start only after those have ended",
                  "  --start-after S / --start-at TIME   do not start before S seconds from now / TIME (ISO 8601)",
                  "  --retry N [--retry-backoff S] [--retry-on LIST] [--retry-resume]   start a failed attempt again, up to N times"]
VERBS = {
    "ping": (v_ping, "ping", "check that the daemon answers", "Checks that the daemon answers and prints its version, pid, uptime and socket.", {}, []),
    "shutdown": (v_shutdown, "shutdown [--kill-processes]", "stop the daemon (children keep running unless --kill-processes)",
                 "Stops the daemon after it answers what is in flight. Running children keep running and are re-adopted by the next daemon, unless --kill-processes is given.", {"kill-processes": _B}, []),
    "spawn": (v_spawn, "spawn [--id ID] [--cwd DIR] [--timeout S] [--name NAME] [--env K=V]... [--stdin TEXT] [--idempotency-key K] [--parent ID] [--] CMD [ARGS...]",
              "run a command under the daemon (spawn [--id ID] [--] CMD ARGS...)",
              "Starts CMD (no shell) under the daemon, in the current directory unless --cwd, and prints its id. Options come before CMD; everything from CMD on is the command (`--` before it is optional). "
              "A `claude -p ...` command line becomes a tracked claude run (spawn_claude: the daemon's CLAUDE_BIN, live state, cost, `result ID`).",
              dict({"id": _S, "cwd": _S, "timeout": _S, "name": _S, "env": _L, "stdin": _S, "idempotency-key": _S, "parent": _S}, **_SCHEDULE_OPTS),
              ["  --id ID       process id (1-64 of A-Z a-z 0-9 . _ -); generated if absent", "  --cwd DIR     working directory (default: the current one)",
               "  --timeout S   kill it (SIGTERM, then SIGKILL 5 s later) once it has run S seconds", "  --name NAME   a label for people",
               "  --env K=V     set an environment variable (repeatable), over the daemon's environment",
               "  --stdin TEXT  write TEXT to its stdin, then close it (default: /dev/null); for a claude run without a prompt, the prompt",
               "  --idempotency-key K  if a record not yet removed holds K, print that one (deduplicated) and start nothing",
               "  --parent ID   record ID as its parent (default: $CLAUDE_DAEMON_PROCESS_ID, set in every tracked process)",
               ] + _SCHEDULE_HELP + ["", "example: client.py spawn claude -p \"test command\"      client.py spawn --id build -- sh -c 'make'"]),
    "list": (v_list, "list [--status STATUS] [--tree] [--limit N [--cursor C]]", "list processes: id, status, pid, time, command",
             "Lists processes (id, status, pid, running time or duration, command), oldest first, with totals by status. With --tree, each process under its parent, indented. With --limit, at most N of them and, when there are more, the --cursor that lists the next ones.",
             {"status": _S, "tree": _B, "limit": _S, "cursor": _S}, ["  --tree        show lineage: children under their parent (records whose parent is not listed are roots)"]),
    "info": (v_info, "info ID", "show one process's record", "Shows one process's record: status, pid, command, times, output sizes, and why it ended if the daemon ended it.", {}, []),
    "logs": (v_logs, "logs ID [--stderr] [--tail N] [--follow] [--attempt N]", "print a process's output (--stderr, --tail N, --follow)",
             "Prints a process's captured stdout (or --stderr): all of it, or the last --tail N lines. --follow keeps printing new output until the process ends. --attempt N prints that attempt's output (records with retries). --json prints read_output replies, one per line.",
             {"stderr": _B, "tail": _S, "follow": _B, "attempt": _S}, []),
    "kill": (v_kill, "kill ID [ID...] [--signal SIG] [--grace S] [--cascade]", "stop processes and their whole trees (--signal, --grace; several ids: at once)",
             "Sends SIG (default SIGTERM; claude runs: SIGINT, then SIGTERM) to the process, its group and every descendant, then SIGKILL to survivors after --grace seconds (default 5). Returns once it has ended.",
             {"signal": _S, "grace": _S, "cascade": _B}, ["  --signal SIG  a name (TERM, SIGKILL, int) or a number (9)", "  --grace S     seconds before SIGKILL (default 5)",
                                                   "  --cascade     first end every descendant (processes spawned with this one as parent), deepest first"]),
    "wait": (v_wait, "wait ID [--timeout S]", "wait for a process to end; exits with the process's exit code",
             "Waits for the process to end and exits with its exit code: the child's own code, 128+N if signal N killed it, 127 if it could not start, 1 if its outcome was lost, 124 if --timeout passed first.",
             {"timeout": _S}, []),
    "events": (v_events, "events [--follow] [--since N] [--type T]... [--process ID]...", "print the event journal (--since N, --type T, --process ID); --follow for live events",
               "Prints the events the daemon journaled after seq --since N (default 0: all it holds), then exits; --follow keeps printing new events until interrupted (without --since: only new ones).",
               {"follow": _B, "since": _S, "type": _L, "process": _L},
               ["  --type T      only events of type T (repeatable); default: every type but output", "  --process ID  only events about process ID (repeatable)"]),
    "rm": (v_rm, "rm ID [--cascade]", "forget an ended process and delete its output",
           "Forgets an ended process and deletes its output files. A running one is refused: kill or wait for it first; so is one with running or queued descendants, unless --cascade.",
           {"cascade": _B}, ["  --cascade     also end (kill) and forget every descendant, deepest first, and the process itself if it still runs"]),
    "clean": (v_clean, "clean [--status STATUS]... [--group G] [--older-than DURATION]", "remove ended records (by status, group, age)",
              "Removes ended records (exited, killed, failed, lost) and their output files: all of them, or only those of the given statuses (repeat --status), group, or ended at least DURATION ago (90s, 30m, 12h, 7d). Queued and running processes are never removed, nor ended ones whose leftover processes still run.",
              {"status": _L, "group": _S, "older-than": _S}, []),
    "claude": (v_claude, "claude PROMPT [--model M] [--cwd DIR] [--id ID] [--stall S] [--timeout S] [--wait] [options] [-- CLAUDE_ARGS...]",
               "start a headless `claude -p` run (--wait prints its result)",
               "Starts `claude -p PROMPT --output-format stream-json` under the daemon and prints its process id. With --wait, waits for the run and prints its final text; the exit code is then 0 when the run succeeded and 1 when it failed (the reason on stderr).",
               {"model": _S, "cwd": _S, "id": _S, "name": _S, "stall": _S, "timeout": _S, "wait": _B, "env": _L, "max-turns": _S, "allowed-tools": _L, "disallowed-tools": _L,
                "permission-mode": _S, "system-prompt": _S, "append-system-prompt": _S, "resume": _S, "session-id": _S, "mcp-config": _L, "max-budget-usd": _S, "json-schema": _S,
                "idempotency-key": _S, "parent": _S, "ignore-hold": _B, "limit-resume-prompt": _S, **_SCHEDULE_OPTS},
               ["  --model M, --cwd DIR, --id ID, --name NAME    model, working directory (default: the current one), process id, label",
                "  --stall S / --timeout S     stop the run when its stream is silent S seconds / after S seconds",
                "  --wait                      wait for the end and print the result text",
                "  --env K=V (repeatable), --max-turns N, --allowed-tools T, --disallowed-tools T, --permission-mode M,",
                "  --system-prompt S, --append-system-prompt S, --resume ID, --session-id UUID, --mcp-config C,",
                "  --max-budget-usd N, --json-schema JSON      passed to claude as its flags",
                "  --idempotency-key K, --parent ID            as for spawn",
                "  --ignore-hold, --limit-resume-prompt P      start despite a usage-limit hold; the prompt of a resumption after one",
                "  -- ARGS...                  any other claude flags, passed through"] + _SCHEDULE_HELP),
    "group": (v_group, "group [NAME] [--parallel N] [--pause | --resume] [--budget USD|none]", "show or change scheduling groups (group NAME --parallel N, --pause, --resume, --budget USD)",
              "Without options, lists the scheduling groups (or shows NAME): limit, running, queued, and why queued ones wait. With options, changes NAME (created on first use); settings persist across daemon restarts.",
              {"parallel": _S, "pause": _B, "resume": _B, "budget": _S},
              ["  --parallel N  at most N of the group's processes run at once (0 = unlimited)", "  --pause / --resume  start none of its queued processes / start them again",
               "  --budget USD  spending budget of its claude runs (held once spent; raise it to release them); none clears it"]),
    "result": (v_result, "result ID [--timeout S]", "print the final text of a claude run (waits for its end)",
               "Waits for the claude run ID to end and prints its final text. Exit code 0 when the run succeeded, 1 when it failed, 124 when --timeout passed first (the run keeps going).",
               {"timeout": _S}, []),
    "load": (v_load, "load NAME", "load or reload a module from the modules directory",
             "Loads the module NAME (NAME.ts, .mts, .js, .mjs or .py in the modules directory), or reloads it. A file that fails to load leaves the serving version in place and prints file:line:column.", {}, []),
    "call": (v_call, "call MODULE FUNCTION [ARGS...] [--kwargs JSON] [--timeout S]", "call a module's function: call MODULE FUNCTION [ARGS...]",
             "Calls a function of a module (loading the module first if needed) and prints its return value: a string as is, anything else as JSON.",
             {"kwargs": _S, "timeout": _S},
             ["  ARGS              each is parsed as JSON when it is valid JSON (42, true, [1,2], {\"a\":1}), else passed as a string",
              "  --kwargs JSON     keyword arguments (Python) / one last object argument (TypeScript, JavaScript)",
              "  --timeout S       fail with CALL_TIMEOUT after S seconds (default 30)", "", "example: client.py call example hello Claude"]),
    "modules": (v_modules, "modules", "list loaded modules, their versions and load errors",
                "Lists loaded modules: version, language, calls served, age of the serving version, functions, and the load error of a newer file when there is one.", {}, []),
    "unload": (v_unload, "unload NAME", "unload a module (running calls finish first)", "Unloads a module: calls already running finish, then it stops.", {}, []),
    "request": (v_request, "request COMMAND [PARAMS_JSON] [--timeout MS]", "send any command by its wire name with JSON parameters; prints the result",
                "Sends one request by its wire command name and prints the result as JSON. PARAMS_JSON is an object of parameters, e.g. '{\"process_id\": \"build\"}'.",
                {"timeout": _S}, ["  --timeout MS   give up after MS milliseconds (exit 124); default: wait as long as it takes"]),
}
_GLOBAL = {"socket": _S, "json": _B, "help": _B}
_SHORT = {"-h": "help", "-f": "follow"}
_PROG = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0].endswith(".py") else "client.py"


def _general_help():
    width = max(len(k) for k in VERBS)
    lines = ["%s: the claude-daemon command line in one standard-library Python file." % _PROG, "",
             "usage: python3 %s [--socket PATH] [--json] <command> [options]" % _PROG, "", "commands:"]
    lines += ["  %s  %s" % (k.ljust(width), v[2]) for k, v in VERBS.items()]
    lines += ["", "common options (before or after the command): --socket PATH (default $CLAUDE_DAEMON_SOCKET or %s), --json, --help" % DEFAULT_SOCKET_PATH,
              "exit codes: 0 ok, 1 the daemon answered with an error, 2 usage error, 3 no daemon reachable,",
              "  124 a wait timed out (wait/result --timeout, a call past its timeout, request --timeout);",
              "  wait: the process's own code, 128+N for signal N, 127 it could not start",
              "start a daemon with `npx claude-daemon start`.", ""]
    return "\n".join(lines)


def _verb_help(name):
    v = VERBS[name]
    return "\n".join(["usage: %s %s" % (_PROG, v[1]), "", v[3]] + ([""] + v[5] if v[5] else []) + ["", "common options: --socket PATH, --json, --help", ""])


def _parse(argv):
    """Splits argv into (verb, options, positionals, after_dashdash) the way `claude-daemon` does.

    Global options go before or after the verb. For `spawn`, options end at the command's first word.
    A value may follow its flag or be attached (--timeout=5). Negative numbers are positionals.
    """
    state = {"verb": None}
    try:
        return _parse_words(argv, state)
    except UsageError as e:
        e.verb = state["verb"]  # so the message can show the verb's usage line
        raise


def _parse_words(argv, state):
    verb, opts, pos, after = None, {}, [], []
    spec = dict(_GLOBAL)
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            if verb is None:
                raise UsageError("give a command before --")
            after = argv[i:]
            break
        is_number = len(a) > 1 and a[0] == "-" and a[1:].replace(".", "", 1).isdigit()
        if a.startswith("-") and a != "-" and not is_number:
            if a in _SHORT:
                name, eq, value = _SHORT[a], "", ""
            elif a.startswith("--"):
                name, eq, value = a[2:].partition("=")
            else:
                raise UsageError("unknown option '%s'" % a)
            kind = spec.get(name)
            if kind is None:
                raise UsageError("unknown option '%s'" % a.partition("=")[0] + ("" if verb else " (options of a command go after it)"))
            if kind == _B:
                if eq:
                    raise UsageError("option --%s takes no value" % name)
                opts[name] = True
                continue
            if not eq:
                if i >= len(argv):
                    raise UsageError("option --%s needs a value" % name)
                value, i = argv[i], i + 1
            if kind == _L:
                opts.setdefault(name, []).append(value)
            else:
                opts[name] = value
            continue
        if verb is None:
            verb = a
            if verb == "help":
                opts["help"] = True
                verb = None
                continue
            if verb not in VERBS:
                hint = " To send the wire command %s: %s request %s '{...}'." % (verb, _PROG, verb) if "_" in verb else ""
                raise UsageError("unknown command '%s'. Run `%s --help` for the list.%s" % (verb, _PROG, hint))
            state["verb"] = verb
            spec.update(VERBS[verb][4])
            continue
        pos.append(a)
        if verb == "spawn":
            pos.extend(argv[i:])
            break
    if verb != "claude":  # only `claude` passes what follows -- on (as claude's own flags)
        pos, after = pos + after, []
    return verb, opts, pos, after


def _fail(json_mode, code, message, more, exit_code, prefix=""):
    """A failure: for people on stderr; with --json one line on stdout shaped like the daemon's error reply."""
    if json_mode:
        _json_line({"success": False, "code": code, "error": message})
    else:
        _err("%s%s%s\n" % (prefix, message, more))
    return exit_code


def main(argv=None):
    """Runs the command line on ``argv`` (default sys.argv[1:]) and returns the exit code."""
    global SOCKET_PATH
    argv = list(sys.argv[1:] if argv is None else argv)
    json_mode = "--json" in argv
    verb = None
    try:
        verb, opts, pos, after = _parse(argv)
        if verb is None:
            if opts.get("help"):
                _out(_general_help())
                return EXIT_OK
            if json_mode:
                raise UsageError("give a command; run `%s --help` for the list" % _PROG)
            _err(_general_help())
            return EXIT_USAGE
        if opts.get("help"):
            _out(_verb_help(verb))
            return EXIT_OK
        json_mode = bool(opts.get("json"))
        if opts.get("socket"):
            SOCKET_PATH = opts["socket"]
        ctx = {"opts": opts, "pos": pos, "after_dashdash": after, "json": json_mode}
        return VERBS[verb][0](ctx)
    except UsageError as e:
        verb = verb or getattr(e, "verb", None)
        where = "%s %s" % (_PROG, verb) if verb else _PROG
        usage = "\nusage: %s %s\n(see `%s %s --help`)" % (_PROG, VERBS[verb][1], _PROG, verb) if verb else ""
        return _fail(json_mode, "USAGE_ERROR", "%s: %s" % (where, e), usage, EXIT_USAGE)
    except DaemonError as e:
        # A call past its timeout_s is a wait that timed out, like every other.
        return _fail(json_mode, e.code, e.message, "", EXIT_TIMED_OUT if e.code == "CALL_TIMEOUT" else EXIT_ERROR, "error [%s]: " % e.code)
    except ClientError as e:
        return _fail(json_mode, e.kind, e.message, "", EXIT_TIMED_OUT if e.kind == "TIMEOUT" else EXIT_NO_DAEMON, "error: ")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`client.py logs x | head`): not an error; silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    sys.exit(code)
