"""Starts `cowrite` processes (`serve` and the other commands) by forking them from one process
that has already imported the server's code, so that a test's server start or command costs no
imports (about three quarters of a server's start).

The launcher reads one JSON request a line on stdin (argv, env, cwd, where the output goes) and
answers with the new process's pid. Each process is forked twice and its middle process exits at
once: the new process is then re-parented to the test process, which marks itself a child
subreaper first, so the test process waits for it and reads its exit status as it would for a
process it had started itself. In the new process, the environment, the working directory, the
standard streams and `sys.argv` are the request's, and `cowrite.cli.main` runs as
`python -m cowrite` would run it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from dataclasses import dataclass

PRELOADED = (
    "cowrite.app",
    "cowrite.cli",
    "cowrite.leanws",
    "cowrite.leanws.http",
    "cowrite.leanws.sansio",
    "cowrite.migrate",
    "cowrite.ops.startup",
    "uvicorn.main",
    "uvloop",
)


def _exit_code(code: object) -> int:
    """The status `python` exits with for `SystemExit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


@dataclass(frozen=True)
class Request:
    """One server to start: its arguments after `cowrite`, environment, directory and log."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    log: str  # stdout and stderr, unless `stderr` is given
    stdin: str = os.devnull
    stderr: str | None = None


def _serve(request: Request) -> None:
    """In the forked server: take on the request's environment and run the CLI; never returns."""
    status = 1
    try:
        argv, cwd = request.argv, request.cwd
        writing = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        for fd, path, flags in (
            (0, request.stdin, os.O_RDONLY),
            (1, request.log, writing),
            (2, request.stderr or request.log, writing),
        ):
            opened = os.open(path, flags, 0o644)
            os.dup2(opened, fd)
            os.close(opened)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(request.env)
        sys.argv = ["cowrite", *argv]
        sys.path[0] = cwd  # as for `python -m`, which puts the working directory first

        from cowrite.cli import main

        main(argv)
        status = 0
    except SystemExit as exc:
        status = _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed log must not hide the status
                stream.flush()
        os._exit(status)


def _fork_server(request: Request) -> int:
    """Fork a server whose parent exits at once; the server's pid."""
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        status = 0
        try:
            os.close(read_end)
            server = os.fork()
            if server == 0:
                os.close(write_end)
                _serve(request)
            os.write(write_end, str(server).encode())
        except BaseException:
            traceback.print_exc()
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        pid = answer.read()
    os.waitpid(middle, 0)  # once it is gone, the server is the test process's child
    if not pid:
        raise RuntimeError("the server could not be forked")
    return int(pid)


def main() -> None:
    for name in PRELOADED:
        __import__(name)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            answer: dict[str, object] = {"pid": _fork_server(Request(**json.loads(line)))}
        except Exception as exc:
            answer = {"error": repr(exc)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
