"""Who is calling: accounts, sign-in, access tokens and sessions, API keys, one-time
codes, real-name binding and face checks.

``identity.principal`` is the one module the other rooms (routing, audit) import from
here; real-name binding and face checks in turn call services through ``routing``.
"""
