"""The distributed run on this machine: each service its own uvicorn process on its
own port, on the real Kafka, PostgreSQL and Redis of ``deploy/local/stack.sh``.

``make up`` / ``make down`` call ``up`` / ``down``; the fault tests and the
benchmark use ``ServiceProcess`` to start, kill and restart single services.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from yiwang_platform.bus.kafka import drop_topics
from yiwang_platform.events import CloudEvent
from yiwang_platform.internal_token import InternalTokenSigner
from yiwang_standalone import seed_libraries

ROOT = Path(__file__).resolve().parent.parent
LOCAL = Path(os.environ.get("YIWANG_LOCAL", ROOT / ".local"))

# service folder name -> (Python package, port)
SERVICES: dict[str, tuple[str, int]] = {
    "matters": ("matters", 8001),
    "intake": ("intake", 8002),
    "license": ("license", 8003),
    "data-exchange": ("data_exchange", 8004),
    "supervision": ("supervision", 8005),
    "gateway": ("gateway", 8000),
}


def service_folder(name: str) -> Path:
    return ROOT / name if name == "gateway" else ROOT / "services" / name


def _dockerfile_instructions(name: str) -> list[tuple[str, str]]:
    """(instruction, arguments) of the service's Dockerfile, continuation lines joined."""
    text = (service_folder(name) / "Dockerfile").read_text()
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(word.upper(), rest.strip()) for word, _, rest in (x.partition(" ") for x in logical)]


def image_command(name: str) -> list[str]:
    """The ``CMD`` of the service's image (its final stage)."""
    commands = [json.loads(args) for word, args in _dockerfile_instructions(name) if word == "CMD"]
    return list(commands[-1])


def image_env(name: str) -> dict[str, str]:
    """The ``ENV`` of the image's final stage, with its paths mapped to this checkout."""
    stages: list[dict[str, str]] = []
    for word, args in _dockerfile_instructions(name):
        if word == "FROM":
            stages.append({})
        elif word == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                stages[-1][key] = value
    env = stages[-1]
    env.pop("PATH", None)  # the virtual environment's bin is put first by ServiceProcess
    image_var = "/tmp/yiwang"  # noqa: S108 (the image's path, mapped away)
    return {
        k: v.replace("/app/contracts", str(ROOT / "contracts")).replace(
            image_var, str(LOCAL / "var")
        )
        for k, v in env.items()
    }


def terminate(process: subprocess.Popen[Any], *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def script_output(script: str, *args: str) -> str:
    """What a script under deploy/local/ prints (it fails loudly if the script does)."""
    return subprocess.run(
        ["bash", str(ROOT / "deploy/local" / script), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def stack_env() -> dict[str, str]:
    """Addresses of the servers that deploy/local/stack.sh runs."""
    out = script_output("stack.sh", "env")
    values: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value.strip("'\"")
    return values


@dataclass
class Keys:
    """Keys of one local platform: internal-token signer, PII key, API keys."""

    folder: Path

    def ensure(self) -> Keys:
        self.folder.mkdir(parents=True, exist_ok=True)
        pem = self.folder / "internal-token.pem"
        if not pem.exists():
            signer = InternalTokenSigner.generate()
            _write_private(pem, signer.private_pem())
            (self.folder / "internal-token.kid").write_text(signer.kid)
        signer = self.signer()
        (self.folder / "jwks.json").write_text(json.dumps(signer.jwks()))
        seal = self.folder / "seal.pem"
        if not seal.exists():
            # The issuing department's seal; every license replica must share it.
            _write_private(seal, InternalTokenSigner.generate().private_pem())
        pii = self.folder / "pii.key"
        if not pii.exists():
            _write_private(pii, base64.b64encode(os.urandom(64)).decode())
        # The audit chains' HMAC key and the key that signs their checkpoints.
        chain = self.folder / "audit-chain.key"
        if not chain.exists():
            _write_private(chain, base64.b64encode(os.urandom(32)).decode())
        checkpoint = self.folder / "audit-checkpoint.pem"
        if not checkpoint.exists():
            _write_private(checkpoint, InternalTokenSigner.generate().private_pem())
        from yiwang_standalone.dev_keys import ensure_dev_keys

        ensure_dev_keys(self.folder)
        return self

    def signer(self) -> InternalTokenSigner:
        kid = (self.folder / "internal-token.kid").read_text().strip()
        return InternalTokenSigner.from_pem((self.folder / "internal-token.pem").read_text(), kid)

    def api_keys(self) -> dict[str, str]:
        return dict(json.loads((self.folder / "dev-api-keys.json").read_text()))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def database_url(admin_url: str, name: str) -> str:
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


async def ensure_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@dataclass
class ServiceProcess:
    """One service as a uvicorn process, started the way its container starts it."""

    name: str
    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def module(self) -> str:
        return SERVICES[self.name][0]

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", f"{self.module}.migrate"], env=self.env, check=True, cwd=ROOT
        )

    def start(self) -> None:
        """Run the image's own command; only the listening address differs."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        env = {
            **self.env,
            "UVICORN_HOST": "127.0.0.1",
            "UVICORN_PORT": str(self.port),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), self.env.get("PATH", "")]),
        }
        self.process = subprocess.Popen(
            image_command(self.name),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready within {timeout}s; see {self.log_path}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def service_env(
    name: str,
    stack: dict[str, str],
    keys: Keys,
    database: str,
    namespace: str = "",
    var_dir: Path | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "UVICORN_"))}
    env.update(image_env(name))
    env.update(
        YIWANG_ENVIRONMENT="distributed",
        YIWANG_BUS="kafka",
        YIWANG_KAFKA_BOOTSTRAP=stack["YIWANG_KAFKA_BOOTSTRAP"],
        YIWANG_KAFKA_NAMESPACE=namespace,
        YIWANG_REDIS_URL=stack.get("YIWANG_REDIS_URL", ""),
        YIWANG_DATABASE_URL=database_url(stack["YIWANG_POSTGRES_URL"], database),
        YIWANG_MIGRATE_ON_START="false",
        YIWANG_INTERNAL_TOKEN_PUBLIC_KEYS=str(keys.folder / "jwks.json"),
        YIWANG_PII_KEY=(keys.folder / "pii.key").read_text().strip(),
        YIWANG_VAR_DIR=str(var_dir or LOCAL / "var"),
        YIWANG_CONTRACTS_DIR=str(ROOT / "contracts"),
        YIWANG_OUTBOX_POLL_INTERVAL="0.2",
    )
    if name == "license":
        env["YIWANG_SEAL_PRIVATE_KEY"] = str(keys.folder / "seal.pem")
    if name in ("gateway", "data-exchange"):
        env["YIWANG_AUDIT_CHAIN_KEY"] = (keys.folder / "audit-chain.key").read_text().strip()
        env["YIWANG_AUDIT_CHECKPOINT_PRIVATE_KEY"] = str(keys.folder / "audit-checkpoint.pem")
    if name == "intake":
        # The peers intake calls inside a request, at their ``make up`` ports.
        for peer in ("matters", "license", "data-exchange"):
            env[f"YIWANG_PEER_{env_name(peer)}_URL"] = f"http://127.0.0.1:{SERVICES[peer][1]}"
    if name == "gateway":
        env.update(
            YIWANG_INTERNAL_TOKEN_PRIVATE_KEY=str(keys.folder / "internal-token.pem"),
            YIWANG_INTERNAL_TOKEN_KID=(keys.folder / "internal-token.kid").read_text().strip(),
            YIWANG_API_KEYS=str(keys.folder / "api-key-hashes.json"),
        )
        for service, (_, port) in SERVICES.items():
            if service != "gateway":
                env[f"YIWANG_UPSTREAM_{env_name(service)}"] = f"http://127.0.0.1:{port}"
    env.update(extra or {})
    return env


def env_name(service: str) -> str:
    """A service's name as it stands in a setting's name: DATA_EXCHANGE."""
    return service.upper().replace("-", "_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalPlatform:
    """One isolated platform on the shared servers: own databases, topics and keys."""

    tmp: Path
    stack: dict[str, str]
    namespace: str = field(default_factory=lambda: f"f{uuid.uuid4().hex[:10]}.")
    processes: list[ServiceProcess] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys = Keys(self.tmp / "keys").ensure()
        self.kafka = self.stack["YIWANG_KAFKA_BOOTSTRAP"]
        self.postgres = self.stack["YIWANG_POSTGRES_URL"]

    def database(self, service: str) -> str:
        return f"{self.namespace.rstrip('.')}_{service.replace('-', '_')}"

    async def service(self, name: str, **env: str) -> ServiceProcess:
        """A migrated, not yet started service process (start it with ``start``)."""
        if name == "matters":
            # Tests and benchmarks count matters' rows and events: no seed catalogue
            # unless asked for with seed_catalogue="true".
            env.setdefault("seed_catalogue", "false")
        database = self.database(name)
        if database not in self.databases:
            await ensure_database(self.postgres, database)
            self.databases.append(database)
        environment = service_env(
            name,
            self.stack,
            self.keys,
            database,
            self.namespace,
            self.tmp / "var",
            {f"YIWANG_{k.upper()}": v for k, v in env.items()},
        )
        process = ServiceProcess(name, environment, free_port(), self.tmp / f"{name}.log")
        process.migrate()
        self.processes.append(process)
        return process

    async def start_all(
        self, seeded: bool = True, common: dict[str, str] | None = None, **gateway_env: str
    ) -> tuple[dict[str, ServiceProcess], ServiceProcess]:
        """All five services and the gateway, started and ready, wired to each other by
        their ports: the gateway to every service, intake to the peers it calls.
        ``seeded``: the seed catalogue and the synthetic people and enterprises;
        ``common``: settings for every process."""
        common = common or {}
        seeds = {"matters": {"seed_catalogue": "true"}}
        names = [n for n in SERVICES if n != "gateway"]
        services = {
            name: await self.service(name, **common, **(seeds.get(name, {}) if seeded else {}))
            for name in names
        }
        for peer in ("matters", "license", "data-exchange"):
            services["intake"].env[f"YIWANG_PEER_{env_name(peer)}_URL"] = services[peer].url()
        upstreams = {
            f"upstream_{env_name(name).lower()}": process.url()
            for name, process in services.items()
        }
        front = await self.service("gateway", **common, **upstreams, **gateway_env)
        for process in [*services.values(), front]:
            process.start()
        for process in [*services.values(), front]:
            await asyncio.to_thread(process.wait_ready)
        if seeded:
            await seed_libraries.push_through_gateway(front.url(), self.keys.api_keys()["county"])
        return services, front

    def token(
        self, audience: str, subject: str = "fault-test", principal_type: str = "staff"
    ) -> str:
        """A staff member who keeps the catalogue, as the gateway would vouch for them."""
        return self.keys.signer().mint(
            audience, subject, principal_type=principal_type, ttl=600, roles=["catalogue"]
        )

    async def sql(self, service: str, query: str, *args: Any) -> Any:
        url = database_url(self.postgres, self.database(service)).replace(
            "postgresql+asyncpg", "postgresql"
        )
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    async def produce(self, topic: str, events: list[tuple[str, CloudEvent]]) -> None:
        """Publish events as another service or a county system would."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.kafka, enable_idempotence=True, acks="all", linger_ms=10
        )
        await producer.start()
        try:
            for key, event in events:
                await producer.send(
                    self.namespace + topic, event.value(), key=key.encode(), headers=event.headers()
                )
            await producer.flush()
        finally:
            await producer.stop()

    async def read_topic(self, topic: str, expected: int, timeout_ms: int = 20000) -> list[Any]:
        consumer = AIOKafkaConsumer(
            self.namespace + topic,
            bootstrap_servers=self.kafka,
            auto_offset_reset="earliest",
            group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        records: list[Any] = []
        try:
            deadline = time.monotonic() + timeout_ms / 1000
            while len(records) < expected and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for rs in batch.values():
                    records.extend(rs)
        finally:
            await consumer.stop()
        return records

    async def close(self) -> None:
        for process in self.processes:
            process.kill()
        conn = await asyncpg.connect(self.postgres.replace("postgresql+asyncpg", "postgresql"))
        try:
            for name in self.databases:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        with contextlib.suppress(Exception):  # a broker stopped by a fault test
            await drop_topics(self.kafka, self.namespace)


RUN = LOCAL / "run"


def up() -> None:
    stack = stack_env()
    keys = Keys(LOCAL / "keys").ensure()
    gateway_port = int(os.environ.get("PORT", "8000"))
    RUN.mkdir(parents=True, exist_ok=True)
    processes = []
    for name, (module, port) in SERVICES.items():
        pid_file = RUN / f"{name}.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            print(f"{name}: already running (pid {pid_file.read_text().strip()})")
            continue
        database = f"yiwang_{module}"
        asyncio.run(ensure_database(stack["YIWANG_POSTGRES_URL"], database))
        env = service_env(name, stack, keys, database)
        process = ServiceProcess(
            name, env, gateway_port if name == "gateway" else port, RUN / f"{name}.log"
        )
        process.migrate()
        process.start()
        assert process.process is not None
        pid_file.write_text(str(process.process.pid))
        processes.append(process)
    for process in processes:
        process.wait_ready()
        print(f"{process.name}: ready on {process.url()}")
    # The demo's synthetic people and enterprises, pushed as the county system of the
    # development keys does (the matters catalogue seeds itself).
    gateway = f"http://127.0.0.1:{gateway_port}"
    loaded = asyncio.run(seed_libraries.push_through_gateway(gateway, keys.api_keys()["county"]))
    print(f"synthetic people and enterprises: {loaded}")
    print(
        f"Yiwang distributed: gateway on http://127.0.0.1:{gateway_port} "
        f"(API docs at /docs and /docs/<service>); API keys in {keys.folder / 'dev-api-keys.json'}; "
        f"logs in {RUN}"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def down() -> None:
    for name in SERVICES:
        pid_file = RUN / f"{name}.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            for _ in range(250):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
        pid_file.unlink()
        print(f"{name}: stopped")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    {"up": up, "down": down}[parser.parse_args().command]()
