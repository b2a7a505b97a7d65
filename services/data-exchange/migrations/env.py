from data_exchange.models import metadata
from yiwang_platform.migrations import run_env

run_env(metadata)
