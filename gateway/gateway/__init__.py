"""Gateway: the only door. Authenticates callers, routes ``/api/v1/<service>/...``
to the services with a short-lived internal token, and records every access.

Public entry points are in ``gateway.main``: ``create_app``, ``openapi_document``, and
``hash_api_key`` for whoever configures the API-key hashes (``YIWANG_API_KEYS``)."""
