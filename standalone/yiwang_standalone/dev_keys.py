"""Development API keys for trying the platform: created once under ``var/``,
stored as hashes for the gateway, the keys themselves in a file readable only by the owner."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from gateway.main import hash_api_key

DEV_PRINCIPALS = [
    {
        "name": "operator",
        "subject": "dev-operator",
        "principal_type": "operator",
        "roles": ["operator"],
    },
    {
        "name": "staff",
        "subject": "dev-window-staff",
        "principal_type": "staff",
        "roles": ["window"],
    },
    {"name": "citizen", "subject": "dev-citizen", "principal_type": "citizen", "roles": []},
    {"name": "county", "subject": "dev-county-330100", "principal_type": "county", "roles": []},
    {
        "name": "supervisor",
        "subject": "dev-supervisor",
        "principal_type": "supervisor",
        "roles": [],
    },
]


def ensure_dev_keys(var_dir: Path) -> tuple[Path, dict[str, str]]:
    """Returns the hash file for the gateway and the plain keys by principal name."""
    var_dir.mkdir(parents=True, exist_ok=True)
    keys_file = var_dir / "dev-api-keys.json"
    hashes_file = var_dir / "api-key-hashes.json"
    keys = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    missing = [p["name"] for p in DEV_PRINCIPALS if p["name"] not in keys]
    if missing:
        keys.update({name: secrets.token_urlsafe(32) for name in missing})
        fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(keys, f, indent=2)
    entries = [
        {
            "sha256": hash_api_key(keys[p["name"]]),
            "subject": p["subject"],
            "principal_type": p["principal_type"],
            "roles": p["roles"],
        }
        for p in DEV_PRINCIPALS
    ]
    hashes_file.write_text(json.dumps(entries, indent=2))
    return hashes_file, keys
