"""Gateway benchmark on the real stack: what the gateway costs per request.

One authenticated read, ``GET /api/v1/matters/matters/<code>``, driven by the same
load generator (wrk, 2 threads, 32 connections) along three paths to the same
matters service process (uvicorn, PostgreSQL, Kafka, as in the distributed run):

  direct   straight to the matters process, with an internal token as the gateway mints it;
  gateway  through the Yiwang gateway process, with a development API key (``X-Api-Key``):
           it authenticates, mints an internal token, forwards with aiohttp and records
           the access (gateway.access.v1);
  gateway-jwt  the same, as a citizen signed in by SMS with a 15-minute EdDSA access token:
           signature, expiry and the session's revocation state (Redis) checked per request;
  nginx    through nginx as a plain reverse proxy (keep-alive upstream pool) that adds
           the internal token header, i.e. the cheapest proxy one could put there;
  bare     a minimal FastAPI app with one asyncpg pool running the same SQL on the same
           database and answering the same JSON (``bench/bare_matter.py``): what a
           service read could cost, the baseline of ``direct``.

All traffic stays on 127.0.0.1; every process started here is stopped at the end.

    make bench-gateway                 # 10 s per path after a 2 s warm-up
    BENCH_SECONDS=30 make bench-gateway
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from gateway.admin import sms_code_sent  # noqa: E402
from tools.distributed import LocalPlatform, free_port, terminate  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))

CODE = "11000000000001"
# Extra settings of the matters process (e.g. BENCH_MATTERS_ENV="database_max_overflow=0").
MATTERS_ENV = dict(
    pair.split("=", 1) for pair in os.environ.get("BENCH_MATTERS_ENV", "").split(",") if pair
)
PATH = f"/api/v1/matters/matters/{CODE}"

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    upstream matters {{
        server 127.0.0.1:{upstream_port};
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://matters;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer {token}";
        }}
    }}
}}
"""


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def get(url: str, headers: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def post_json(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return dict(json.loads(raw)) if raw else {}


def citizen_access_token(gateway_url: str, sms_outbox: Path) -> str:
    """Sign a citizen up by SMS (the development provider writes codes to a file)."""
    phone = "13900001234"
    post_json(gateway_url + "/api/v1/auth/sms-codes", {"phone": phone})
    code = sms_code_sent(sms_outbox, phone)
    assert code, "no SMS code was written"
    tokens = post_json(gateway_url + "/api/v1/auth/citizens", {"phone": phone, "code": code})
    return str(tokens["access_token"])


def seed_matter(platform: LocalPlatform, matters_url: str) -> None:
    body = {
        "code": CODE,
        "name": "出生医学证明签发",
        "kind": "行政确认",
        "department": "市卫生健康委员会",
        "promised_days": 5,
    }
    request = urllib.request.Request(
        matters_url + "/api/v1/matters/matters",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": "Bearer " + platform.token("matters"),
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, response.status


def start_nginx(tmp: Path, upstream_port: int, token: str) -> tuple[subprocess.Popen[bytes], int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, upstream_port=upstream_port, port=port, token=token))
    process = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}; see {tmp}/nginx-error.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError("nginx did not answer within 10 s")


def start_bare(tmp: Path, database_dsn: str) -> tuple[subprocess.Popen[bytes], int]:
    """The baseline app as a uvicorn process of its own (one worker, like matters)."""
    port = free_port()
    log = (tmp / "bare.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_matter:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, "BARE_DATABASE_URL": database_dsn},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.2)
    terminate(process, timeout=5)
    raise TimeoutError(f"the bare app did not answer within 20 s; see {tmp}/bare.log")


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, headers: dict[str, str], seconds: int, latency: bool = True) -> str:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    if latency:
        command.append("--latency")
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return subprocess.run(
        [*command, url], check=True, capture_output=True, text=True, timeout=seconds + 60
    ).stdout


def measure(name: str, url: str, headers: dict[str, str]) -> Result:
    # The same request answered once outside the load, so errors are not measured as speed.
    body = get(url, headers)
    assert body.get("code") == CODE, f"{name}: unexpected answer {body}"
    wrk(url, headers, WARMUP_SECONDS, latency=False)
    output = wrk(url, headers, SECONDS)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{name}: {errors.group(1)} failed responses under load\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rate and p50 and p99):
        raise RuntimeError(f"{name}: cannot read wrk output\n{output}")
    if "Socket errors" in output:
        print(f"  note ({name}): {output.split('Socket errors')[1].splitlines()[0].strip(': ')}")
    return Result(float(rate.group(1)), milliseconds(p50.group(1)), milliseconds(p99.group(1)))


async def main() -> None:
    stack = {
        "YIWANG_KAFKA_BOOTSTRAP": os.environ["YIWANG_KAFKA_BOOTSTRAP"],
        "YIWANG_POSTGRES_URL": os.environ["YIWANG_POSTGRES_URL"],
        "YIWANG_REDIS_URL": os.environ.get("YIWANG_REDIS_URL", ""),
    }
    results_by_path: dict[str, Result] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        platform = LocalPlatform(Path(tmp), stack)
        nginx = bare = None
        try:
            matters = await platform.service("matters", log_level="WARNING", **MATTERS_ENV)
            matters.start()
            matters.wait_ready()
            # Only matters is called. The gateway's /readyz asks every upstream for its own
            # /readyz, so the others point at the matters process too, not at dead ports.
            others = {
                f"upstream_{name}": matters.url()
                for name in ("intake", "license", "data-exchange", "supervision")
            }
            # A per-principal rate limit far above what one machine can send (ignored by a
            # gateway without that setting), so it never refuses a request.
            gateway = await platform.service(
                "gateway",
                log_level="WARNING",
                upstream_matters=matters.url(),
                rate_limit_per_minute=str(100_000_000),
                sms_outbox=str(Path(tmp) / "sms-outbox.jsonl"),
                **others,
            )
            gateway.start()
            gateway.wait_ready()
            seed_matter(platform, matters.url())

            # The internal token the gateway would mint for the operator key (600 s: it
            # outlives the run, so direct and nginx can reuse one token as a client would).
            token = platform.keys.signer().mint(
                "matters", "dev-operator", principal_type="operator", ttl=600, roles=["operator"]
            )
            nginx_dir = Path(tmp) / "nginx"
            nginx_dir.mkdir()
            nginx, nginx_port = start_nginx(nginx_dir, matters.port, token)
            dsn = platform.postgres.replace("postgresql+asyncpg://", "postgresql://")
            bare, bare_port = start_bare(
                Path(tmp), f"{dsn.rsplit('/', 1)[0]}/{platform.database('matters')}"
            )
            bare_url = f"http://127.0.0.1:{bare_port}{PATH}"
            direct_answer = get(matters.url(PATH), {"Authorization": f"Bearer {token}"})
            if get(bare_url, {}) != direct_answer:
                raise RuntimeError("the bare app does not answer what matters answers")

            paths = {
                "direct": (matters.url(PATH), {"Authorization": f"Bearer {token}"}),
                "gateway": (
                    gateway.url(PATH),
                    {"X-Api-Key": platform.keys.api_keys()["operator"]},
                ),
                "gateway-jwt": (
                    gateway.url(PATH),
                    {
                        "Authorization": "Bearer "
                        + citizen_access_token(gateway.url(), Path(tmp) / "sms-outbox.jsonl")
                    },
                ),
                "nginx": (f"http://127.0.0.1:{nginx_port}{PATH}", {}),
                "bare": (bare_url, {}),
            }
            for name, (url, headers) in paths.items():
                results_by_path[name] = measure(name, url, headers)
        finally:
            for process in (nginx, bare):
                if process is not None:
                    terminate(process, timeout=10)
            await platform.close()

    direct, gateway_result = results_by_path["direct"], results_by_path["gateway"]
    proxy, jwt_result = results_by_path["nginx"], results_by_path["gateway-jwt"]
    baseline = results_by_path["bare"]
    lines = [
        f"gateway benchmark: GET {PATH}, wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s "
        f"(after {WARMUP_SECONDS}s warm-up), {os.cpu_count()} cores",
        f"  load average before the run: {load_before:.2f} (other work on the machine skews the figures)",
    ]
    for name, result in results_by_path.items():
        lines.append(
            f"  {name:<11} {result.requests_per_second:>9,.0f} requests/s   "
            f"p50 {result.p50_ms:7.2f} ms   p99 {result.p99_ms:7.2f} ms"
        )
    lines.append(
        "  ratios (requests/s): "
        f"gateway/direct {gateway_result.requests_per_second / direct.requests_per_second:.3f}, "
        f"gateway/nginx {gateway_result.requests_per_second / proxy.requests_per_second:.3f}, "
        f"gateway-jwt/nginx {jwt_result.requests_per_second / proxy.requests_per_second:.3f}, "
        f"nginx/direct {proxy.requests_per_second / direct.requests_per_second:.3f}, "
        f"direct/bare {direct.requests_per_second / baseline.requests_per_second:.3f}"
    )
    print("\n".join(lines))
    figures = {f"{name}_rps": r.requests_per_second for name, r in results_by_path.items()}
    figures |= {f"{name}_p50_ms": r.p50_ms for name, r in results_by_path.items()}
    results.save("gateway", figures)


if __name__ == "__main__":
    asyncio.run(main())
