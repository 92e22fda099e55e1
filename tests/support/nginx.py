"""The Debian nginx, run by a test in front of cowrite with the site file of docs/deploy/.

The site file is rendered with the test's addresses only: its own port on 127.0.0.1, the test's
certificate, the test's upstream ports, and `proxy_bind 127.0.0.2` so that cowrite sees the
proxy at another address than the test's direct clients (127.0.0.1).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "deploy" / "nginx.conf"
PROXY_ADDRESS = "127.0.0.2"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if Path(path).exists()), None
    )


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"docs/deploy/nginx.conf no longer contains {old!r}"
    return text.replace(old, new)


def render_site(upstreams: list[int], port: int, certificate: Certificate, directory: Path) -> str:
    text = SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=0;\n" for p in upstreams)
    text, count = re.subn(
        r"(upstream cowrite \{\n)(?:    server [^\n]+\n)+", lambda m: m.group(1) + servers, text
    )
    assert count == 1, "docs/deploy/nginx.conf: the upstream block changed shape"
    text = _replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    text = _replace(text, "/etc/ssl/cowrite/fullchain.pem", str(certificate.cert))
    text = _replace(text, "/etc/ssl/cowrite/privkey.pem", str(certificate.key))
    text = _replace(text, "/var/log/nginx/cowrite.access.log", str(directory / "access.log"))
    text = _replace(
        text,
        "proxy_pass http://cowrite;",
        f"proxy_pass http://cowrite;\n        proxy_bind {PROXY_ADDRESS};",
    )
    # The port-80 redirect needs a privileged port; the tests speak HTTPS only.
    return text[: text.index("# Plain HTTP only")]


MAIN = """\
{user}worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {dir}/temp/body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    include {dir}/site.conf;
}}
"""


@dataclass
class Nginx:
    directory: Path
    certificate: Certificate
    upstreams: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"wss://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> Nginx:
        binary = nginx_binary()
        assert binary, "nginx is not installed"
        (self.directory / "temp").mkdir(parents=True, exist_ok=True)
        (self.directory / "site.conf").write_text(
            render_site(self.upstreams, self.port, self.certificate, self.directory)
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.directory / "nginx.conf"
        conf.write_text(MAIN.format(user=user, dir=self.directory))
        self.process = subprocess.Popen(
            [
                binary,
                "-c",
                str(conf),
                "-p",
                str(self.directory),
                "-e",
                str(self.directory / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                errors = self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"nginx exited: {errors.decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen in time")

    def statuses(self) -> list[str]:
        """Per request nginx answered: its status, then the upstreams tried and their answers."""
        log = self.directory / "access.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [line.split('" ', 1)[1] for line in lines if '" ' in line]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
