"""Standalone launcher: every service and the gateway in one process."""
