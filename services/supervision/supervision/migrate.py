"""Run the supervision migrations as a separate step (distributed mode, Kubernetes Job)."""

import asyncio

from supervision.main import migrations_dir
from supervision.settings import Settings
from yiwang_platform.migrations import migrate_cli

if __name__ == "__main__":
    asyncio.run(migrate_cli(Settings(), migrations_dir()))
