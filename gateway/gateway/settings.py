from __future__ import annotations

from pydantic import Field

from yiwang_platform.settings import ServiceSettings

# Public path segment -> service (its internal-token audience).
SERVICES = ("matters", "intake", "license", "exchange", "supervision")


class Settings(ServiceSettings):
    service_name: str = "gateway"

    # Base URLs of the services in the distributed run (YIWANG_UPSTREAM_MATTERS=...).
    upstream_matters: str = "http://127.0.0.1:8001"
    upstream_intake: str = "http://127.0.0.1:8002"
    upstream_license: str = "http://127.0.0.1:8003"
    upstream_exchange: str = "http://127.0.0.1:8004"
    upstream_supervision: str = "http://127.0.0.1:8005"
    upstream_timeout: float = 15.0
    max_body_bytes: int = 10 * 1024 * 1024

    # Ed25519 key (PEM text or a file path) and key id for internal tokens. Empty in
    # standalone: the launcher hands the gateway a freshly generated signer.
    internal_token_private_key: str = ""
    internal_token_kid: str = "gateway-1"
    internal_token_ttl: int = 60

    # API keys of callers (JSON, inline or a file path): [{"sha256": ..., "subject": ...,
    # "principal_type": ..., "roles": [...]}]. Only hashes are configured, never keys.
    api_keys: str = Field(
        default="", description="JSON list of API-key hashes and their principals"
    )

    # Access records are written in batches so auditing does not serialise requests.
    access_batch_size: int = 500

    def upstream_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"upstream_{name}") for name in SERVICES}
