"""Requests on to the services: upstreams, the internal token, per-scenario
authorisation, rate limits, and the edge checks made before any route."""
