"""Gateway: the only door. Authenticates callers, routes ``/api/v1/<service>/...``
to the services with a short-lived internal token, and records every access."""
