"""Shared plumbing for every Yiwang service. No domain rules live here."""
