"""Request and response bodies of the gateway's own routes."""

from __future__ import annotations
