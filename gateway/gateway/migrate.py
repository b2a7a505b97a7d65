"""Run the gateway migrations as a separate step (distributed mode, Kubernetes Job)."""

import asyncio

from gateway.main import migrations_dir
from gateway.settings import Settings
from yiwang_platform.migrations import migrate_cli

if __name__ == "__main__":
    asyncio.run(migrate_cli(Settings(), migrations_dir()))
