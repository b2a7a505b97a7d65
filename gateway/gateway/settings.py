from __future__ import annotations

from pathlib import Path

from pydantic import Field

from yiwang_platform.settings import ServiceSettings

# Public path segment -> service (its internal-token audience).
SERVICES = ("matters", "intake", "license", "data-exchange", "supervision")


def default_policies_dir() -> Path:
    """``policies/`` inside the installed package (wheel), else beside it (source tree)."""
    package = Path(__file__).resolve().parent
    installed = package / "policies"
    return installed if installed.is_dir() else package.parent / "policies"


class Settings(ServiceSettings):
    service_name: str = "gateway"

    # Base URLs of the services in the distributed run (YIWANG_UPSTREAM_MATTERS=...).
    upstream_matters: str = "http://127.0.0.1:8001"
    upstream_intake: str = "http://127.0.0.1:8002"
    upstream_license: str = "http://127.0.0.1:8003"
    upstream_data_exchange: str = "http://127.0.0.1:8004"
    upstream_supervision: str = "http://127.0.0.1:8005"
    upstream_timeout: float = 15.0
    max_body_bytes: int = 10 * 1024 * 1024

    # Ed25519 key (PEM text or a file path) and key id for internal tokens. Empty in
    # standalone: the launcher hands the gateway a freshly generated signer.
    internal_token_private_key: str = ""
    internal_token_kid: str = "gateway-1"
    internal_token_ttl: int = 60
    # Peers a service may call on the caller's behalf inside a request: the caller's
    # internal token names them as further audiences (intake pre-fills from
    # data-exchange, reads the guide from matters, checks wallet licenses).
    delegated_audiences: dict[str, list[str]] = Field(
        default_factory=lambda: {"intake": ["matters", "data-exchange", "license"]}
    )

    # API keys of callers (JSON, inline or a file path): [{"sha256": ..., "subject": ...,
    # "principal_type": ..., "roles": [...]}]. Only hashes are configured, never keys.
    api_keys: str = Field(
        default="", description="JSON list of API-key hashes and their principals"
    )

    # Access records are written in batches so auditing does not serialise requests.
    access_batch_size: int = 500

    # Scenario policies (场景授权): one YAML file per scenario, polled for changes.
    policies_dir: Path = Field(default_factory=default_policies_dir)
    policies_poll_seconds: float = 2.0
    # Requests per minute per principal on routes without a scenario (0: unlimited);
    # scenario routes use the policy's ``rate`` (this value when it has none).
    rate_limit_per_minute: int = 600

    # Access and refresh tokens; L3 (face-verified) lasts ``face_window_minutes``.
    token_issuer: str = "yiwang-gateway"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    face_window_minutes: int = 5
    # The token endpoint's public URL: the audience of machines' client assertions.
    token_endpoint_url: str = "http://127.0.0.1:8000/api/v1/auth/token"
    # Where the development SMS provider writes codes (empty: var_dir/sms-outbox.jsonl).
    sms_outbox: str = ""
    # Failed password sign-ins per account before a 15-minute lock.
    password_attempts: int = 10

    # Real-name binding (实名核验): the policy's rate per account and per ID number, and
    # this many mismatches within the window lock binding for the account or the number.
    real_name_max_failures: int = Field(default=5, ge=1)
    real_name_failure_window_seconds: float = Field(default=3600, gt=0)
    real_name_lockout_seconds: float = Field(default=1800, gt=0)

    # Face checks (人脸核验): challenge lifetime (at most 2 minutes); this many
    # non-matches within the window lock face checks for the person for the lockout.
    face_challenge_seconds: float = Field(default=120, gt=0, le=120)
    face_max_failures: int = Field(default=5, ge=1)
    face_failure_window_seconds: float = Field(default=900, gt=0)
    face_lockout_seconds: float = Field(default=900, gt=0)
    # Largest selfie (decoded bytes) a verification takes; larger is 413.
    face_max_image_bytes: int = 2 * 1024 * 1024

    def upstream_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"upstream_{name.replace('-', '_')}") for name in SERVICES}
