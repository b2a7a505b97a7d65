"""Run the intake migrations as a separate step (distributed mode, Kubernetes Job)."""

import asyncio

from intake.main import migrations_dir
from intake.settings import Settings
from yiwang_platform.migrations import migrate_cli

if __name__ == "__main__":
    asyncio.run(migrate_cli(Settings(), migrations_dir()))
