"""A real deployment in network namespaces: a data host, one or two app hosts, nginx in front.

The harness of tests/deploy and of ``bench/deploy_load.py`` (a plain module, so both can import it).

- ``data`` (``<subnet>.2``): its own PostgreSQL cluster (initdb, run as the postgres user, listening on
  the data address only; password auth) with the ticket database and Rasa's trackers, and its own
  redis-server (Rasa's lock store and the citizen limits).
- ``app1``/``app2`` (``.11``/``.12``): ``auskunft serve actions|rasa|web`` each, every service on the
  host's own address, with the internal secret set. They share one ``AUSKUNFT_HOME`` (the shared-volume
  option: models, the trained Rasa model and the published index) built once beforehand, as a build step.
- nginx in the root namespace (``deploy/nginx/auskunft.conf`` rendered) balances the two web services.

Everything is removed in teardown, also after a failure (:class:`tests.helpers.netns.Network`). The build
home is kept between runs under ``AUSKUNFT_DEPLOY_TMP`` (training is skipped while its inputs are unchanged).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from tests.helpers.netns import Host, Network, available, tails, wait_ready

ROOT = Path(__file__).resolve().parent.parent.parent
BASE = Path(os.environ.get("AUSKUNFT_DEPLOY_TMP", "/tmp/auskunft-deploy"))
PG_BIN = Path(os.environ.get("AUSKUNFT_PG_BIN", "/usr/lib/postgresql/15/bin"))
NGINX_PORT = int(os.environ.get("AUSKUNFT_DEPLOY_PORT", "18600"))
WEB, RASA, ACTIONS, PG, REDIS, WORKER = 18610, 18620, 18630, 18640, 18650, 18660  # inside the namespaces
PG_PASSWORD = "deploy-pg-0123456789"
REDIS_PASSWORD = "redis-deploy-test-password-5bd1"  # requirepass: the lock store and the limits must log in
INTERNAL_TOKEN = "deploy-internal-0123456789abcdef"
API_TOKEN = "deploy-api-0123456789abcdef0123456789"  # at least 32 characters (settings)
READY_TIMEOUT = 420


@dataclass
class Deployment:
    """The running deployment and how to reach it."""

    network: Network
    data: Host
    apps: List[Host]
    url: str  # nginx
    pg_url: str  # as the app hosts reach PostgreSQL (the test connects the same way)
    logs: Path
    processes: Dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)
    startup_seconds: float = 0.0
    base: Path = BASE
    envs: Dict[str, Dict[str, str]] = field(default_factory=dict)  # per app host: its services' environment

    def start(self, app: Host, service: str) -> "subprocess.Popen[bytes]":
        """Start ``auskunft serve <service>`` on ``app`` (again, after a kill) as ``<host>-<service>``."""
        name = f"{app.name}-{service}"
        process = self.network.start(app, [sys.executable, "-m", "bot.cli", "serve", service],
                                     self.logs / f"{name}.log", env=self.envs[app.name], cwd=ROOT)
        self.processes[name] = process
        return process

    def access_log(self) -> List[str]:
        """nginx's access log lines: ``client "request" status upstream``."""
        path = self.logs / "nginx" / "access.log"
        return path.read_text().splitlines() if path.is_file() else []

    def tails(self) -> str:
        """The last lines of every log (for failure messages)."""
        return tails(sorted(self.logs.glob("*.log")) + [self.logs / "nginx" / "error.log"])


def _run(argv: List[str], env: Dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def build_home(home: Path) -> None:
    """The build step: models, the published index and the trained Rasa model in the shared home."""
    env = {**os.environ, "AUSKUNFT_HOME": str(home)}
    cli = [sys.executable, "-m", "bot.cli"]
    _run([*cli, "model", "provision"], env, "auskunft model provision")
    _run([*cli, "kb", "build"], env, "auskunft kb build")
    _run([*cli, "train"], env, "auskunft train")


def start_postgres(net: Network, host: Host, base: Path,
                   processes: Optional[Dict[str, "subprocess.Popen[bytes]"]] = None) -> str:
    """A fresh cluster run by the postgres user on ``host``'s address; returns the SQLAlchemy base URL.

    Its process goes into ``processes`` as ``postgres`` when given (to stop and restart it).
    """
    pg = base / "pg"
    shutil.rmtree(pg, ignore_errors=True)
    pg.mkdir(parents=True)
    (pg / "pw").write_text(PG_PASSWORD)
    shutil.chown(pg, "postgres", "postgres")
    shutil.chown(pg / "pw", "postgres", "postgres")
    _run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(pg / "data"), "-U", "postgres",
          "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pg / 'pw'}", "--no-locale", "-E", "UTF8"],
         dict(os.environ), "initdb")
    with (pg / "data" / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {net.gateway.rsplit('.', 1)[0]}.0/24 scram-sha-256\n")
    process = run_postgres(net, host, base)
    if processes is not None:
        processes["postgres"] = process
    for name in ("auskunft", "rasa", "actions_outbox"):
        _run(["runuser", "-u", "postgres", "--", str(PG_BIN.parent / "bin" / "psql"), "-h", str(pg), "-p", str(PG),
              "-q", "-c", f"CREATE DATABASE {name}"], dict(os.environ), f"CREATE DATABASE {name}")
    return f"postgresql://postgres:{PG_PASSWORD}@{host.address}:{PG}"


def run_postgres(net: Network, host: Host, base: Path) -> "subprocess.Popen[bytes]":
    """Start the cluster under ``base/pg`` on ``host`` (again, after a stop) and wait until it accepts connections."""
    pg = base / "pg"
    process = net.start(host, [str(PG_BIN / "postgres"), "-D", str(pg / "data"), "-h", host.address, "-p", str(PG),
                               "-k", str(pg), "-c", "fsync=off", "-c", "shared_buffers=32MB"],
                        base / "logs" / "postgres.log", user="postgres")
    deadline = time.monotonic() + 60
    while subprocess.run([str(PG_BIN / "pg_isready"), "-h", host.address, "-p", str(PG)],
                         capture_output=True, check=False).returncode != 0:
        assert process.poll() is None and time.monotonic() < deadline, tails([base / "logs" / "postgres.log"])
        time.sleep(0.3)
    return process


def run_redis(net: Network, host: Host, base: Path) -> "subprocess.Popen[bytes]":
    """Start redis-server on ``host`` (no persistence: what the deployment keeps there is short-lived)."""
    redis_dir = base / "redis"
    redis_dir.mkdir(exist_ok=True)
    return net.start(host, ["redis-server", "--bind", host.address, "--port", str(REDIS), "--save", "",
                            "--appendonly", "no", "--protected-mode", "no", "--dir", str(redis_dir),
                            "--requirepass", REDIS_PASSWORD],
                     base / "logs" / "redis.log")


def app_env(app: Host, data: Host, apps: List[Host], home: Path, pg_url: str, gateway: str) -> Dict[str, str]:
    """The environment of every service on ``app`` (what an operator puts into the units' EnvironmentFile)."""
    return {
        **os.environ,
        "AUSKUNFT_HOME": str(home),  # shared: models, trained Rasa model, published index
        "AUSKUNFT_HOST": app.address, "AUSKUNFT_INTERNAL_HOST": app.address,
        "AUSKUNFT_WEB_PORT": str(WEB), "AUSKUNFT_RASA_PORT": str(RASA), "AUSKUNFT_ACTION_PORT": str(ACTIONS),
        "AUSKUNFT_WORKER_PORT": str(WORKER),
        "AUSKUNFT_RASA_WORKERS": "1",
        "AUSKUNFT_RASA_URL": ",".join(f"http://{a.address}:{RASA}" for a in apps),
        "AUSKUNFT_INTERNAL_TOKEN": INTERNAL_TOKEN, "AUSKUNFT_API_TOKEN": API_TOKEN,
        "AUSKUNFT_DATABASE_URL": f"{pg_url}/auskunft",
        "AUSKUNFT_ACTIONS_OUTBOX_URL": f"{pg_url}/actions_outbox",  # tickets waiting for the ticket API, shared
        "AUSKUNFT_REDIS_URL": f"redis://{data.address}:{REDIS}/0",
        "AUSKUNFT_ENDPOINTS": "endpoints.scale-out.yml",
        "AUSKUNFT_PG_HOST": data.address, "AUSKUNFT_PG_PORT": str(PG), "AUSKUNFT_PG_DB": "rasa",
        "AUSKUNFT_PG_USER": "postgres", "AUSKUNFT_PG_PASSWORD": PG_PASSWORD,
        "AUSKUNFT_REDIS_HOST": data.address, "AUSKUNFT_REDIS_PORT": str(REDIS),
        "AUSKUNFT_REDIS_PASSWORD": REDIS_PASSWORD,  # for Rasa's lock store and the web service's limit counters
        "AUSKUNFT_TRUSTED_PROXIES": gateway,  # nginx, as the app hosts see it
        "AUSKUNFT_OFFICE_HOURS": "Mo-So 00:00-23:59",
    }


def start_nginx(net: Network, apps: List[Host], base: Path, port: int = NGINX_PORT) -> "subprocess.Popen[bytes]":
    """nginx in the root namespace with ``deploy/nginx/auskunft.conf`` rendered for the app hosts.

    With one app host the ``@@WEB_2@@`` server line is left out (as an operator with one host would).
    """
    conf = base / "logs" / "nginx"
    conf.mkdir(parents=True, exist_ok=True)
    site = (ROOT / "deploy" / "nginx" / "auskunft.conf").read_text()
    site = site.replace("@@LISTEN@@", f"127.0.0.1:{port}")
    for number, app in enumerate(apps, start=1):
        site = site.replace(f"@@WEB_{number}@@", f"{app.address}:{WEB}")
    site = "\n".join(line for line in site.splitlines()  # an unused host's line, the comments naming placeholders
                     if not line.strip().startswith("server @@WEB_") and not (line.startswith("#") and "@@" in line))
    assert "@@" not in site, "a placeholder of deploy/nginx/auskunft.conf was not filled"
    (conf / "auskunft.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {conf / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                     "scgi"))
    (conf / "nginx.conf").write_text(
        f"user root;\nworker_processes 1;\nerror_log {conf / 'error.log'};\npid {conf / 'nginx.pid'};\n"
        "worker_rlimit_nofile 8192;\nevents { worker_connections 4096; }\n"
        "http {\n  log_format upstream '$remote_addr \"$request\" $status $upstream_addr';\n"
        f"  access_log {conf / 'access.log'} upstream;\n  {temp}\n  include {conf / 'auskunft.conf'};\n}}\n")
    process = subprocess.Popen(["nginx", "-p", str(conf), "-c", str(conf / "nginx.conf"), "-g", "daemon off;"],
                               stdout=(base / "logs" / "nginx.log").open("ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    net.processes.append(process)
    return process


def missing_tools() -> Optional[str]:
    """None when the deployment can be built here, else what to install (for a failure message)."""
    reason = available()
    if reason is not None or shutil.which("nginx") is None or not (PG_BIN / "initdb").is_file() \
            or shutil.which("redis-server") is None:
        return (f"the deployment needs root, ip netns, nginx (make deploy-deps), redis-server and "
                f"PostgreSQL 15 in {PG_BIN}: {reason or 'a program is missing'}")
    return None


@contextmanager
def deploy(base: Path, net: Network, nginx_port: int = NGINX_PORT, extra_env: Optional[Dict[str, str]] = None,
           services: Sequence[str] = ("actions", "rasa", "web"), app_hosts: int = 2) -> Iterator[Deployment]:
    """Build the shared home under ``base`` and start the deployment on ``net`` (hosts data, app1, app2).

    Args:
        base: the build home, the clusters and the logs (kept between runs: training is skipped while unchanged).
        net: an entered :class:`Network` (its prefix and subnet keep parallel harnesses apart).
        nginx_port: nginx's port on 127.0.0.1.
        extra_env: on top of :func:`app_env` for every service (e.g. SMTP, a helpdesk).
        services: what each app host runs, in start order (``worker`` included where wanted).
        app_hosts: 1 or 2 (app1 at ``.11``, app2 at ``.12``); nginx balances over those that exist.
    """
    if app_hosts not in (1, 2):
        raise ValueError(f"app_hosts is 1 or 2, got {app_hosts}")
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)  # the postgres user reaches its cluster below it
    home = base / "shared-home"
    started = time.monotonic()
    build_home(home)
    logs = base / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    data = net.add_host("data", 2)
    apps = [net.add_host(f"app{number}", 10 + number) for number in range(1, app_hosts + 1)]
    deployment = Deployment(net, data, apps, f"http://127.0.0.1:{nginx_port}", "", logs, base=base)
    try:
        deployment.processes["redis"] = run_redis(net, data, base)
        deployment.pg_url = start_postgres(net, data, base, deployment.processes)
        ready = []
        for app in apps:
            env = {**app_env(app, data, apps, home, deployment.pg_url, net.gateway), **(extra_env or {})}
            deployment.envs[app.name] = env
            for service in services:
                deployment.start(app, service)
            ready += [url for service in services if (url := ready_url(app, service))]
        deployment.processes["nginx"] = start_nginx(net, apps, base, nginx_port)
        wait_ready([*ready, f"{deployment.url}/healthz"], list(deployment.processes.values()), READY_TIMEOUT,
                   sorted(logs.glob("*.log")))
        deployment.startup_seconds = time.monotonic() - started
        print(f"\ndeployment ready in {deployment.startup_seconds:.0f} s (build step included)")
        yield deployment
    except BaseException:
        print(deployment.tails())
        raise


def ready_url(app: Host, service: str) -> Optional[str]:
    """Where ``service`` on ``app`` answers 200 once ready."""
    port = {"actions": (ACTIONS, "/health"), "rasa": (RASA, "/"), "web": (WEB, "/healthz"),
            "worker": (WORKER, "/health")}.get(service)
    return f"http://{app.address}:{port[0]}{port[1]}" if port else None
