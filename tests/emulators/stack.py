#!/usr/bin/env python3
"""Test stack: server emulators behind a real nginx with TLS on loopback.

Builds the Go emulators, creates a test PKI with the openssl CLI, writes an
nginx configuration with one TLS server block per case (good, mtls,
wronghost, expired, untrusted) and starts everything on free loopback ports.

CLI:
    stack.py up   --dir WORK [--mender] [--azure] [--tenant-token T]
    stack.py down --dir WORK
    stack.py run  --dir WORK [options] -- CMD [ARG...]

`up` leaves the processes running and writes WORK/stack.env (shell
KEY=value lines) and WORK/stack.json (the same keys); `down` stops them
(from pid files, so another process can do it); `run` is up + CMD with that
environment + down (always), and exits with CMD's status.

Module:
    with Stack(workdir, mender=True) as stack:
        stack.env["SBPROV_TEST_MENDER_URL"]

Python 3.11 standard library only. Needs go, openssl and nginx (Debian:
golang-go, openssl, nginx-light); it installs nothing itself.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Environment for every Go build: offline, no toolchain switching.
GO_ENV = {
    "GOFLAGS": "-mod=mod",
    "GOPROXY": "off",
    "GOTOOLCHAIN": "local",
    "GOSUMDB": "off",
    "CGO_ENABLED": "0",
}

START_TIMEOUT = 30.0  # seconds for a process to come up
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
PORT_RETRIES = 5  # nginx restarts after a lost port race


class StackError(Exception):
    """A stack cannot be brought up; the message says why."""


# --- tools -------------------------------------------------------------------


def find_tool(name: str, package: str, extra: tuple[str, ...] = ()) -> str:
    """Path of a program, or a StackError naming the Debian package."""
    path = shutil.which(name)
    if path:
        return path
    for cand in extra:
        if os.access(cand, os.X_OK):
            return cand
    raise StackError(
        f"{name} not found: install the Debian package {package} "
        f"(scripts/install-deps.sh does, as root: apt-get install {package})"
    )


def run_checked(args: list[str], *, cwd: Path | None = None, env: dict | None = None,
                what: str = "") -> str:
    res = subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise StackError(f"{what or args[0]} failed (exit {res.returncode}): "
                         f"{shlex.join(args)}\n{res.stderr.strip()}")
    return res.stdout


# --- ports -------------------------------------------------------------------


def free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (bind port 0, then release)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_get(url: str, context: ssl.SSLContext | None = None, timeout: float = 5) -> tuple[int, bytes]:
    """GET on loopback, ignoring any proxy settings of the environment."""
    handlers: list = [urllib.request.ProxyHandler({})]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    with urllib.request.build_opener(*handlers).open(url, timeout=timeout) as r:
        return r.status, r.read()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- processes ---------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_pid(pid: int, marker: str, proc: subprocess.Popen | None = None) -> None:
    """SIGTERM the process group of pid (SIGKILL after STOP_TIMEOUT), but only
    if pid still runs the program we started (marker in its command line)."""
    if not _alive(pid) or marker not in _cmdline(pid):
        if proc is not None:
            proc.poll()
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                break
            if not _alive(pid):
                break
            time.sleep(0.05)
        else:
            continue
        break
    if proc is not None:
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    # Leftover group members (e.g. nginx workers) go too.
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- PKI ---------------------------------------------------------------------

EXTENSIONS = """\
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[wronghost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

CA_CONF = """\
[ca]
default_ca = testca

[testca]
database = {db}/index.txt
new_certs_dir = {db}/new
serial = {db}/serial
certificate = {dir}/ca.crt
private_key = {dir}/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_any]
commonName = supplied
"""


class Pki:
    """Test CA, a second unrelated CA, server certificates (good, wrong host,
    expired, untrusted) and RSA/EC client certificates, all with openssl."""

    def __init__(self, directory: Path, openssl: str):
        self.dir = directory
        self.openssl = openssl

    def path(self, name: str) -> Path:
        return self.dir / name

    def _ossl(self, *args: str) -> None:
        run_checked([self.openssl, *args], cwd=self.dir, what="openssl " + args[0])

    def _key(self, name: str, kind: str) -> None:
        if kind == "rsa":
            self._ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{name}.key")
        else:
            self._ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key")
        os.chmod(self.path(f"{name}.key"), 0o600)

    def _ca(self, name: str, cn: str) -> None:
        self._key(name, "ec")
        self._ossl("req", "-x509", "-new", "-key", f"{name}.key", "-out", f"{name}.crt", "-days", "3650",
                   "-sha256", "-subj", f"/CN={cn}",
                   "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                   "-addext", "subjectKeyIdentifier=hash")

    def _leaf(self, name: str, cn: str, ext: str, ca: str = "ca", kind: str = "ec") -> None:
        self._key(name, kind)
        self._ossl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        self._ossl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
                   "-set_serial", "0x" + secrets.token_hex(8), "-days", "825", "-sha256",
                   "-extfile", "ext.cnf", "-extensions", ext, "-out", f"{name}.crt")

    def _expired(self, name: str) -> None:
        """localhost certificate valid in January 2020 only (OpenSSL 3.0's
        x509 has no -not_before, so `openssl ca` with -startdate/-enddate)."""
        db = self.dir / "ca-db"
        (db / "new").mkdir(parents=True, exist_ok=True)
        (db / "index.txt").write_text("")
        (db / "serial").write_text(secrets.token_hex(8).upper() + "\n")
        (self.dir / "ca.cnf").write_text(CA_CONF.format(db=db, dir=self.dir))
        self._key(name, "ec")
        self._ossl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost")
        self._ossl("ca", "-batch", "-config", "ca.cnf", "-notext", "-startdate", "20200101000000Z",
                   "-enddate", "20200131000000Z", "-extfile", "ext.cnf", "-extensions", "server",
                   "-in", f"{name}.csr", "-out", f"{name}.crt")

    def create(self) -> None:
        if (self.dir / "done").exists():
            return
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        (self.dir / "ext.cnf").write_text(EXTENSIONS)
        self._ca("ca", "sbprov test CA")
        self._ca("other-ca", "sbprov unrelated test CA")
        self._leaf("server", "localhost", "server")
        self._leaf("wronghost", "wrong.example", "wronghost")
        self._leaf("untrusted", "localhost", "server", ca="other-ca")
        self._expired("expired")
        self._leaf("client-rsa", "sbprov test client (RSA)", "client", kind="rsa")
        self._leaf("client-ec", "sbprov test client (EC)", "client", kind="ec")
        self._leaf("client-untrusted", "sbprov untrusted client", "client", ca="other-ca")
        (self.dir / "done").write_text("")


# --- nginx -------------------------------------------------------------------


@dataclasses.dataclass
class Site:
    """One TLS server block in front of an upstream."""
    name: str  # e.g. "mender-good"
    upstream: str  # nginx upstream name
    cert: Path
    key: Path
    client_ca: Path | None = None  # mTLS: require a client certificate
    port: int = 0
    location_extra: str = ""  # nginx directives added to "location /" (lines ending in "\n")


# The TLS cases every emulator gets: variant -> (server certificate, mTLS).
TLS_VARIANTS = {
    "good": ("server", False),
    "mtls": ("server", True),
    "wronghost": ("wronghost", False),
    "expired": ("expired", False),
    "untrusted": ("untrusted", False),
}

NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;

events {{
    worker_connections 512;
}}

http {{
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;

    log_format tls '$remote_addr [$time_local] $server_port "$request" $status $body_bytes_sent '
                   '$request_length $ssl_protocol $ssl_client_verify "$http_user_agent" '
                   'conn=$connection reqs=$connection_requests';
    access_log {dir}/access.log tls;
    default_type application/octet-stream;
    server_tokens off;
    gzip off;

    # Pass requests through unchanged: headers as sent, bodies streamed;
    # 2m so that the emulator's own 413 (over 1 MiB) is reachable.
    ignore_invalid_headers off;
    underscores_in_headers on;
    client_max_body_size 2m;
    proxy_http_version 1.1;
    proxy_request_buffering off;
    # Responses streamed too, so truncation and oversize faults reach the client.
    proxy_buffering off;
    proxy_redirect off;
    proxy_read_timeout 300s;
    proxy_send_timeout 300s;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_set_header X-Forwarded-Proto https;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;

    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;

{upstreams}
{servers}
}}
"""

UPSTREAM = """\
    upstream {name} {{
        server {addr};
        keepalive 16;
    }}
"""

SERVER = """\
    server {{  # {site}
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
{mtls}
        location = /_stack/health {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
        location / {{
{extra}            proxy_pass http://{upstream};
        }}
    }}
"""

# ssl_verify_client alone lets a client without a certificate finish the
# handshake and answers HTTP 400; VerifyMode Require makes OpenSSL refuse the
# handshake instead, so "no client certificate" fails at the TLS level.
MTLS = """\
        ssl_client_certificate {ca};
        ssl_verify_client on;
        ssl_verify_depth 2;
        ssl_conf_command VerifyMode Require;
"""


class Nginx:
    def __init__(self, stack: "Stack"):
        self.stack = stack
        self.dir = stack.dir / "nginx"
        self.binary = find_tool("nginx", "nginx-light", ("/usr/sbin/nginx", "/usr/local/sbin/nginx"))

    def _write(self, upstreams: dict[str, str], sites: list[Site]) -> Path:
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = NGINX_CONF.format(
            user=user,
            dir=self.dir,
            upstreams="".join(UPSTREAM.format(name=n, addr=a) for n, a in upstreams.items()),
            servers="".join(
                SERVER.format(site=s.name, port=s.port, cert=s.cert, key=s.key, upstream=s.upstream,
                              mtls=MTLS.format(ca=s.client_ca) if s.client_ca else "", extra=s.location_extra)
                for s in sites),
        )
        path = self.dir / "nginx.conf"
        path.write_text(conf)
        return path

    def start(self, upstreams: dict[str, str], sites: list[Site]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        last = ""
        for _attempt in range(PORT_RETRIES):
            for s, port in zip(sites, free_ports(len(sites))):
                s.port = port
            conf = self._write(upstreams, sites)
            errlog = self.dir / "error.log"
            args = [self.binary, "-p", str(self.dir) + "/", "-c", str(conf), "-e", str(errlog)]
            run_checked(args + ["-t", "-q"], what="nginx -t")
            errlog.write_text("")
            proc = self.stack.spawn("nginx", args, marker=str(conf))
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                if all(port_open(s.port) for s in sites) and self._healthy(sites[0]):
                    return
                time.sleep(0.05)
            log = errlog.read_text(errors="replace")
            self.stack.stop_one("nginx")
            last = log[-3000:]
            if "Address already in use" not in log:
                break
        raise StackError(f"nginx did not start; {self.dir}/error.log:\n{last}")

    def _healthy(self, site: Site) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.stack.pki.path("ca.crt")))
        if site.client_ca:
            ctx.load_cert_chain(self.stack.pki.path("client-ec.crt"), self.stack.pki.path("client-ec.key"))
        try:
            return http_get(f"https://localhost:{site.port}/_stack/health", ctx, timeout=2)[0] == 200
        except (OSError, ssl.SSLError):
            return False


# --- emulators ----------------------------------------------------------------


class Component:
    """An emulator: built from Go sources under tests/emulators/<name>/,
    started on loopback, published through nginx in every TLS variant.

    Extension point: a new emulator (the Azure one, issue 6) subclasses this,
    sets name/env_prefix, implements start() and env(), and is added to
    COMPONENTS."""

    name = ""
    env_prefix = ""  # e.g. "SBPROV_TEST_MENDER"
    binary_name = ""

    def __init__(self, stack: "Stack"):
        self.stack = stack
        self.dir = stack.dir / self.name
        self.upstream_addr = ""  # "127.0.0.1:PORT" once started
        self.sites: dict[str, Site] = {}

    @property
    def source(self) -> Path:
        return HERE / self.name

    def build(self) -> Path:
        go = find_tool("go", "golang-go", ("/usr/local/go/bin/go", "/usr/lib/go/bin/go"))
        out = self.stack.dir / "bin" / self.binary_name
        out.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, **GO_ENV)
        home = os.environ.get("HOME", "")
        if not home or not os.access(home, os.W_OK):
            env.setdefault("GOCACHE", str(self.stack.dir / "go-cache"))
            env.setdefault("GOPATH", str(self.stack.dir / "gopath"))
            env.setdefault("GOMODCACHE", str(self.stack.dir / "gopath" / "pkg" / "mod"))
        run_checked([go, "build", "-trimpath", "-buildvcs=false", "-o", str(out), "."], cwd=self.source, env=env,
                    what=f"go build ({self.name} emulator)")
        return out

    def start(self) -> None:
        raise NotImplementedError

    def tls_sites(self) -> list[Site]:
        pki = self.stack.pki
        for variant, (cert, mtls) in TLS_VARIANTS.items():
            self.sites[variant] = Site(
                name=f"{self.name}-{variant}", upstream=self.name,
                cert=pki.path(f"{cert}.crt"), key=pki.path(f"{cert}.key"),
                client_ca=pki.path("ca.crt") if mtls else None)
        return list(self.sites.values())

    def urls(self) -> dict[str, str]:
        out = {}
        for variant, site in self.sites.items():
            key = f"{self.env_prefix}_URL" if variant == "good" else f"{self.env_prefix}_{variant.upper()}_URL"
            out[key] = f"https://localhost:{site.port}"
        return out

    def env(self) -> dict[str, str]:
        return self.urls()


class MenderEmulator(Component):
    name = "mender"
    env_prefix = "SBPROV_TEST_MENDER"
    binary_name = "mender-emu"

    def __init__(self, stack: "Stack"):
        super().__init__(stack)
        self.user = stack.options.get("mender_user") or "admin@sbprov.test"
        self.password = stack.options.get("mender_password") or secrets.token_urlsafe(12)
        self.pat = stack.options.get("mender_pat") or "pat-" + secrets.token_hex(24)
        self.control = ""

    def start(self) -> None:
        binary = self.build()
        self.dir.mkdir(parents=True, exist_ok=True)
        addr_file = self.dir / "addr"
        addr_file.unlink(missing_ok=True)
        args = [str(binary), "-listen", "127.0.0.1:0", "-control", "127.0.0.1:0",
                "-addr-file", str(addr_file), "-log", str(self.dir / "requests.jsonl"),
                "-user", f"{self.user}:{self.password}", "-pat", self.pat]
        if self.stack.tenant_token:
            args += ["-tenant-token", self.stack.tenant_token]
        for opt, flag in (("jwt_ttl", "-jwt-ttl"), ("max_devices", "-max-devices"), ("jwt_alg", "-jwt-alg")):
            if self.stack.options.get(opt) is not None:
                args += [flag, str(self.stack.options[opt])]
        proc = self.stack.spawn("mender-emu", args, marker=str(binary))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = (self.stack.dir / "logs" / "mender-emu.stderr").read_text(errors="replace")
                raise StackError(f"mender-emu exited with {proc.returncode}:\n{err[-3000:]}")
            if addr_file.exists():
                break
            time.sleep(0.02)
        else:
            raise StackError("mender-emu did not report its addresses")
        lines = dict(line.split(" ", 1) for line in addr_file.read_text().splitlines() if " " in line)
        self.upstream_addr = lines["listening"].strip()
        self.control = "http://" + lines["control"].strip()
        if http_get(self.control + "/_emu/health")[0] != 200:
            raise StackError("mender-emu control API is not healthy")

    def env(self) -> dict[str, str]:
        out = self.urls()
        out.update({
            f"{self.env_prefix}_PLAIN_URL": "http://" + self.upstream_addr,
            f"{self.env_prefix}_CONTROL": self.control,
            f"{self.env_prefix}_USER": self.user,
            f"{self.env_prefix}_PASSWORD": self.password,
            f"{self.env_prefix}_PAT": self.pat,
            f"{self.env_prefix}_LOG": str(self.dir / "requests.jsonl"),
        })
        if self.stack.tenant_token:
            out["SBPROV_TEST_TENANT_TOKEN"] = self.stack.tenant_token
        return out


# The Azure sites' "location /": once a location sets a proxy_set_header,
# the http-level ones are no longer inherited, so they are repeated here. The
# X-Emu-Service header tells the emulator which service an endpoint is (""
# removes a client's own: both services, routed by path); the emulator's Date
# header is passed on instead of nginx's own, since it carries the emulated
# clock offset.
AZURE_LOCATION = """\
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Emu-Service "{service}";
            proxy_pass_header Date;
"""


def _b64_key(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


class AzureEmulator(Component):
    """The Azure IoT Hub Device Provisioning Service + IoT Hub emulator
    (tests/emulators/azure, issue 6): one process for both services, behind
    nginx in every TLS variant (both services on each, routed by path) plus a
    DPS-only and a hub-only endpoint (good TLS).

    Options (Stack keyword arguments): azure_hub_host, azure_id_scope,
    azure_group_name, azure_group_key (Base64, 16..64 bytes),
    azure_service_key (the iothubowner key), azure_retry_after (seconds on
    DPS 202 answers, default 1 to keep tests fast; the service sends 3),
    azure_assign_polls (202 answers before the result, default 1)."""
    name = "azure"
    env_prefix = "SBPROV_TEST_AZURE"
    binary_name = "azure-emu"
    dps_api_version = "2021-10-01"
    hub_api_version = "2021-04-12"

    def __init__(self, stack: "Stack"):
        super().__init__(stack)
        o = stack.options
        self.hub_host = o.get("azure_hub_host") or "sbprov-test-hub.azure-devices.net"
        self.id_scope = o.get("azure_id_scope") or "0ne00C0FFEE"
        self.group_name = o.get("azure_group_name") or "sbprov-test-group"
        self.group_key = o.get("azure_group_key") or _b64_key(64)  # DPS generates 64-byte keys
        self.group_secondary_key = _b64_key(64)
        self.service_policy = "iothubowner"
        self.service_key = o.get("azure_service_key") or _b64_key(32)
        self.registry_policy, self.registry_key = "registryReadWrite", _b64_key(32)
        self.device_policy, self.device_policy_key = "device", _b64_key(32)
        self.retry_after = o.get("azure_retry_after", 1)
        self.assign_polls = o.get("azure_assign_polls")
        self.control = ""

    def tls_sites(self) -> list[Site]:
        sites = super().tls_sites()
        for site in sites:
            site.location_extra = AZURE_LOCATION.format(service="")
        pki = self.stack.pki
        for service in ("dps", "hub"):
            site = Site(name=f"{self.name}-{service}", upstream=self.name,
                        cert=pki.path("server.crt"), key=pki.path("server.key"),
                        location_extra=AZURE_LOCATION.format(service=service))
            self.sites[service] = site
            sites.append(site)
        return sites

    def start(self) -> None:
        binary = self.build()
        self.dir.mkdir(parents=True, exist_ok=True)
        addr_file = self.dir / "addr"
        addr_file.unlink(missing_ok=True)
        args = [str(binary), "-listen", "127.0.0.1:0", "-control", "127.0.0.1:0",
                "-addr-file", str(addr_file), "-log", str(self.dir / "requests.jsonl"),
                "-hub-host", self.hub_host, "-id-scope", self.id_scope,
                "-group", f"{self.group_name}={self.group_key},{self.group_secondary_key}",
                "-policy", f"{self.service_policy}={self.service_key}",
                "-policy", f"{self.registry_policy}={self.registry_key}",
                "-policy", f"{self.device_policy}={self.device_policy_key}",
                "-retry-after", str(self.retry_after)]
        if self.assign_polls is not None:
            args += ["-assign-polls", str(self.assign_polls)]
        proc = self.stack.spawn("azure-emu", args, marker=str(binary))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = (self.stack.dir / "logs" / "azure-emu.stderr").read_text(errors="replace")
                raise StackError(f"azure-emu exited with {proc.returncode}:\n{err[-3000:]}")
            if addr_file.exists():
                break
            time.sleep(0.02)
        else:
            raise StackError("azure-emu did not report its addresses")
        lines = dict(line.split(" ", 1) for line in addr_file.read_text().splitlines() if " " in line)
        self.upstream_addr = lines["listening"].strip()
        self.control = "http://" + lines["control"].strip()
        if http_get(self.control + "/_emu/health")[0] != 200:
            raise StackError("azure-emu control API is not healthy")

    def env(self) -> dict[str, str]:
        p = self.env_prefix
        out = self.urls()  # _URL, _MTLS_URL, _WRONGHOST_URL, _EXPIRED_URL, _UNTRUSTED_URL, _DPS_URL, _HUB_URL
        out.update({
            f"{p}_PLAIN_URL": "http://" + self.upstream_addr,
            f"{p}_CONTROL": self.control,
            f"{p}_LOG": str(self.dir / "requests.jsonl"),
            f"{p}_HUB_HOST": self.hub_host,
            f"{p}_ID_SCOPE": self.id_scope,
            f"{p}_GROUP_NAME": self.group_name,
            f"{p}_GROUP_KEY": self.group_key,
            f"{p}_GROUP_SECONDARY_KEY": self.group_secondary_key,
            f"{p}_SERVICE_POLICY": self.service_policy,
            f"{p}_SERVICE_KEY": self.service_key,
            f"{p}_SERVICE_CONNSTR": (f"HostName={self.hub_host};SharedAccessKeyName={self.service_policy};"
                                     f"SharedAccessKey={self.service_key}"),
            f"{p}_REGISTRY_POLICY": self.registry_policy,
            f"{p}_REGISTRY_KEY": self.registry_key,
            f"{p}_DEVICE_POLICY": self.device_policy,
            f"{p}_DEVICE_POLICY_KEY": self.device_policy_key,
            f"{p}_DPS_API_VERSION": self.dps_api_version,
            f"{p}_HUB_API_VERSION": self.hub_api_version,
        })
        return out


COMPONENTS: dict[str, type[Component]] = {"mender": MenderEmulator, "azure": AzureEmulator}


# --- the stack ------------------------------------------------------------------


class Stack:
    """Emulators + nginx in workdir. Use as a context manager, or up()/down().

    Options (keyword arguments): mender_user, mender_password, mender_pat,
    jwt_ttl (e.g. "10s"), max_devices, jwt_alg ("EdDSA" or "RS256"); for the
    Azure emulator azure_hub_host, azure_id_scope, azure_group_name,
    azure_group_key, azure_service_key, azure_retry_after, azure_assign_polls
    (see AzureEmulator)."""

    def __init__(self, workdir: str | os.PathLike, mender: bool = True, azure: bool = False,
                 tenant_token: str | None = None, **options):
        self.dir = Path(workdir).resolve()
        self.tenant_token = tenant_token
        self.options = options
        self.wanted = [n for n, on in (("mender", mender), ("azure", azure)) if on]
        self.components: list[Component] = []
        self.pki: Pki | None = None
        self.env: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen] = {}

    # processes -----------------------------------------------------------------

    @property
    def pid_dir(self) -> Path:
        return self.dir / "pids"

    def spawn(self, name: str, args: list[str], marker: str) -> subprocess.Popen:
        """Start a process in a session of its own, output to WORK/logs, and
        record "PID MARKER" in WORK/pids/NAME.pid."""
        logs = self.dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.stdout", "wb") as out, open(logs / f"{name}.stderr", "wb") as err:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, close_fds=True)
        (self.pid_dir / f"{name}.pid").write_text(f"{proc.pid}\n{marker}\n")
        self.procs[name] = proc
        return proc

    def stop_one(self, name: str) -> None:
        pidfile = self.pid_dir / f"{name}.pid"
        try:
            pid_s, marker = (pidfile.read_text().splitlines() + ["", ""])[:2]
            pid = int(pid_s)
        except (OSError, ValueError):
            pid, marker = 0, ""
        if pid > 0:
            stop_pid(pid, marker, self.procs.get(name))
        pidfile.unlink(missing_ok=True)
        self.procs.pop(name, None)

    # up / down -------------------------------------------------------------------

    def up(self) -> dict[str, str]:
        if not self.wanted:
            raise StackError("nothing to start: choose --mender and/or --azure")
        openssl = find_tool("openssl", "openssl")
        nginx = Nginx(self)  # checks for nginx before anything is built
        self.dir.mkdir(parents=True, exist_ok=True)
        self.down()  # leftovers of an earlier run in the same directory
        try:
            self.pki = Pki(self.dir / "pki", openssl)
            self.pki.create()
            upstreams: dict[str, str] = {}
            sites: list[Site] = []
            for name in self.wanted:
                comp = COMPONENTS[name](self)
                self.components.append(comp)
                comp.start()
                upstreams[comp.name] = comp.upstream_addr
                sites += comp.tls_sites()
            nginx.start(upstreams, sites)
            self._start_proxy()
            self.env = self._env()
            self._write_env()
        except BaseException:
            self.down()
            raise
        return self.env

    def _start_proxy(self) -> None:
        """An HTTP CONNECT proxy (connect_proxy.py) for the clients' proxy option."""
        addr_file = self.dir / "proxy.addr"
        addr_file.unlink(missing_ok=True)
        self.proxy_log = self.dir / "proxy.log"
        self.proxy_log.write_text("")
        script = str(HERE / "connect_proxy.py")
        proc = self.spawn("proxy", [sys.executable, script, str(addr_file), str(self.proxy_log)], marker=script)
        deadline = time.monotonic() + START_TIMEOUT
        while not addr_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise StackError("the CONNECT proxy did not start (see logs/proxy.stderr)")
            time.sleep(0.02)
        self.proxy_url = "http://" + addr_file.read_text().split()[1]

    def _env(self) -> dict[str, str]:
        p = self.pki.path
        env = {
            "SBPROV_TEST_STACK_DIR": str(self.dir),
            "SBPROV_TEST_CA": str(p("ca.crt")),
            "SBPROV_TEST_OTHER_CA": str(p("other-ca.crt")),
            "SBPROV_TEST_CLIENT_CERT": str(p("client-rsa.crt")),
            "SBPROV_TEST_CLIENT_KEY": str(p("client-rsa.key")),
            "SBPROV_TEST_CLIENT_CERT_RSA": str(p("client-rsa.crt")),
            "SBPROV_TEST_CLIENT_KEY_RSA": str(p("client-rsa.key")),
            "SBPROV_TEST_CLIENT_CERT_EC": str(p("client-ec.crt")),
            "SBPROV_TEST_CLIENT_KEY_EC": str(p("client-ec.key")),
            "SBPROV_TEST_CLIENT_CERT_UNTRUSTED": str(p("client-untrusted.crt")),
            "SBPROV_TEST_CLIENT_KEY_UNTRUSTED": str(p("client-untrusted.key")),
            "SBPROV_TEST_NGINX_ERROR_LOG": str(self.dir / "nginx" / "error.log"),
            "SBPROV_TEST_NGINX_ACCESS_LOG": str(self.dir / "nginx" / "access.log"),
            "SBPROV_TEST_PROXY_URL": self.proxy_url,
            "SBPROV_TEST_PROXY_LOG": str(self.proxy_log),
        }
        for comp in self.components:
            env.update(comp.env())
        return env

    def _write_env(self) -> None:
        lines = [f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items())]
        tmp = self.dir / "stack.env.tmp"
        tmp.write_text("".join(f"{line}\n" for line in lines))
        os.replace(tmp, self.dir / "stack.env")
        tmp = self.dir / "stack.json.tmp"
        tmp.write_text(json.dumps(self.env, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.dir / "stack.json")

    def down(self) -> None:
        """Stop everything this directory's pid files name (nginx first)."""
        names = []
        if self.pid_dir.is_dir():
            names = sorted(p.stem for p in self.pid_dir.glob("*.pid"))
        names.sort(key=lambda n: n != "nginx")
        for name in names:
            self.stop_one(name)
        for f in ("stack.env", "stack.json"):
            (self.dir / f).unlink(missing_ok=True)

    def __enter__(self) -> "Stack":
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()


# --- for test suites ------------------------------------------------------------------

# Tools the stack runs: (name, Debian package, other places to look).
REQUIRED_TOOLS = (("go", "golang-go", ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")),
                  ("nginx", "nginx-light", ("/usr/sbin/nginx", "/usr/local/sbin/nginx")),
                  ("openssl", "openssl", ()))


def pytest_stack(directory: Path, skip, **options):
    """Generator for a pytest fixture: `yield from pytest_stack(dir,
    pytest.skip, mender=True)`. A missing tool is a skip; anything that fails
    while starting is a test failure. The stack is stopped afterwards."""
    for tool, package, extra in REQUIRED_TOOLS:
        try:
            find_tool(tool, package, extra)
        except StackError as e:
            skip(f"the test stack cannot run: {e}")
    st = Stack(directory, **options)
    try:
        st.up()
        yield st
    finally:
        st.down()


class Control:
    """An emulator's control API (plain HTTP on loopback, never through a
    proxy of the environment): `Control(url)("POST", "/_emu/faults", [...])`
    returns the decoded JSON answer, or None for an empty one."""

    def __init__(self, url: str):
        self.url = url
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __call__(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with self._opener.open(req, timeout=10) as r:
            text = r.read()
        return json.loads(text) if text.strip() else None


# --- CLI ---------------------------------------------------------------------------


class _Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stack_from_args(a: argparse.Namespace) -> Stack:
    mender = a.mender or not a.azure
    opts = {k: v for k, v in (("jwt_ttl", a.jwt_ttl), ("max_devices", a.max_devices),
                              ("jwt_alg", a.jwt_alg)) if v is not None}
    return Stack(a.dir, mender=mender, azure=a.azure, tenant_token=a.tenant_token, **opts)


def child_env(stack_env: dict[str, str]) -> dict[str, str]:
    """The environment for a command run against the stack: the stack's
    variables, and loopback exempted from any proxy the environment sets."""
    env = dict(os.environ, **stack_env)
    for var in ("no_proxy", "NO_PROXY"):
        hosts = [h for h in env.get(var, "").split(",") if h]
        env[var] = ",".join(hosts + [h for h in ("localhost", "127.0.0.1", "::1") if h not in hosts])
    return env


def cmd_up(a: argparse.Namespace) -> int:
    stack = _stack_from_args(a)
    stack.up()
    print(f"stack up; environment in {stack.dir / 'stack.env'}")
    for k, v in sorted(stack.env.items()):
        if not k.endswith(("PASSWORD", "PAT", "TENANT_TOKEN")):
            print(f"  {k}={v}")
    return 0


def cmd_down(a: argparse.Namespace) -> int:
    Stack(a.dir).down()
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        raise StackError("run: no command after --")
    stack = _stack_from_args(a)

    def on_signal(signum, _frame):
        raise _Interrupted(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    child = None
    try:
        stack.up()
        child = subprocess.Popen(cmd, env=child_env(stack.env))
        rc = child.wait()
        return 128 - rc if rc < 0 else rc
    except _Interrupted as e:
        if child is not None and child.poll() is None:
            try:
                child.send_signal(e.signum)
                child.wait(timeout=STOP_TIMEOUT)
            except (subprocess.TimeoutExpired, _Interrupted):
                child.kill()
                child.wait()
        print(f"stack: interrupted by signal {e.signum}", file=sys.stderr)
        return 128 + e.signum
    finally:
        for s in old:
            signal.signal(s, signal.SIG_IGN)
        stack.down()
        for s, h in old.items():
            signal.signal(s, h)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("up", "run"):
        sp = sub.add_parser(name)
        sp.add_argument("--dir", required=True, help="work directory (created)")
        sp.add_argument("--mender", action="store_true", help="the Mender emulator (default)")
        sp.add_argument("--azure", action="store_true", help="the Azure emulator (DPS + IoT Hub)")
        sp.add_argument("--tenant-token", help="make the Mender emulator require this tenant token")
        sp.add_argument("--jwt-ttl", help="device token lifetime, e.g. 30s")
        sp.add_argument("--max-devices", type=int, help="accepted device limit")
        sp.add_argument("--jwt-alg", choices=("EdDSA", "RS256"), help="token signature algorithm")
        if name == "run":
            sp.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARG...]")
    sp = sub.add_parser("down")
    sp.add_argument("--dir", required=True)
    a = p.parse_args(argv)
    try:
        return {"up": cmd_up, "down": cmd_down, "run": cmd_run}[a.command](a)
    except StackError as e:
        print(f"stack: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
