"""Every service in one process on one port: SQLite files, the in-process bus, and
the gateway reaching each service's ASGI app directly (``make run``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import data_exchange.main
import data_exchange.settings
import gateway.main
import gateway.settings
import intake.main
import intake.settings
import license.main
import license.settings
import matters.main
import matters.settings
import supervision.main
import supervision.settings
from yiwang_platform import tracing
from yiwang_platform.bus.inprocess import InProcessBus
from yiwang_platform.internal_token import InternalTokenSigner, InternalTokenVerifier
from yiwang_platform.logs import configure_logging
from yiwang_platform.service import connect_in_process
from yiwang_standalone import seed_libraries
from yiwang_standalone.dev_keys import ensure_dev_keys


def build(var_dir: Path) -> tuple[Starlette, dict[str, str]]:
    configure_logging("yiwang", os.environ.get("YIWANG_LOG_LEVEL", "INFO"), as_json=True)
    tracing.configure("yiwang-standalone")
    bus = InProcessBus()
    signer = InternalTokenSigner.generate()
    verifier = InternalTokenVerifier(signer.jwks())
    # Explicit values so that YIWANG_* variables meant for the distributed run do not leak in.
    common = {
        "var_dir": var_dir,
        "bus": "inprocess",
        "environment": "standalone",
        "database_url": "",
    }

    services: dict[str, FastAPI] = {
        "matters": matters.main.create_app(
            matters.settings.Settings(**common), bus, verifier=verifier, configure_logs=False
        ),
        "intake": intake.main.create_app(
            intake.settings.Settings(**common), bus, verifier=verifier, configure_logs=False
        ),
        "license": license.main.create_app(
            license.settings.Settings(**common), bus, verifier=verifier, configure_logs=False
        ),
        "data-exchange": data_exchange.main.create_app(
            data_exchange.settings.Settings(**common), bus, verifier=verifier, configure_logs=False
        ),
        "supervision": supervision.main.create_app(
            supervision.settings.Settings(**common), bus, verifier=verifier, configure_logs=False
        ),
    }
    # Intake calls matters, data-exchange and license inside requests: in-process here.
    connect_in_process(services["intake"], services)
    hashes_file, keys = ensure_dev_keys(var_dir)
    gateway_settings = gateway.settings.Settings(**common, api_keys=str(hashes_file))
    front = gateway.main.create_app(
        gateway_settings, bus, signer=signer, services=services, configure_logs=False
    )

    own_lifespan = front.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in services.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            await stack.enter_async_context(own_lifespan(front))
            # Synthetic people and enterprises, so the bundles can be tried at once: pushed
            # through the gateway as the development county system would.
            await seed_libraries.push_through_gateway(front, keys["county"])
            yield

    async def readyz(_request: Request) -> JSONResponse:
        # One process serving every service: ready when its own databases (the gateway's
        # and each service's) answer. The distributed gateway checks only its own.
        checks = await front.state.runtime.readiness()
        ready = {n: await a.state.runtime.readiness() for n, a in services.items()}
        states = {
            name: "ok" if all(v == "ok" for v in c.values()) else "unavailable"
            for name, c in ready.items()
        }
        ok = all(v == "ok" for v in [*checks.values(), *states.values()])
        body = {"status": "ok" if ok else "unavailable", "checks": checks, "services": states}
        return JSONResponse(body, 200 if ok else 503)

    # The gateway app itself faces clients (no wrapper whose router would answer what
    # the gateway's does not match, in plain text); it starts every service with itself.
    # Its /readyz gives way to the one that also asks the in-process services.
    front.router.routes.insert(
        0, Route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    )
    front.router.lifespan_context = lifespan
    return front, keys


def main() -> None:
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    var_dir = Path(os.environ.get("YIWANG_VAR_DIR", "var"))
    app, keys = build(var_dir)
    print(
        f"Yiwang standalone on http://{host}:{port}\n"
        f"  readiness: http://{host}:{port}/readyz (and every dependency: /status)\n"
        f"  API docs:  http://{host}:{port}/docs (gateway) and /docs/<service> for "
        "matters, intake, license, data-exchange, supervision\n"
        f"  development API keys (send as X-Api-Key): {var_dir / 'dev-api-keys.json'} "
        f"({', '.join(keys)})\n"
        f"  SMS one-time codes (development provider): {var_dir / 'sms-outbox.jsonl'}",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_config=None, timeout_graceful_shutdown=20)


if __name__ == "__main__":
    main()
