"""The gateway's hash-chained audit log: recording decisions, reading and verifying the
chain (``python -m gateway.audit verify``)."""
