"""The authenticated caller, as every room of the gateway sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

PRINCIPAL_TYPES = {"citizen", "enterprise", "staff", "partner", "county", "operator", "supervisor"}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    ``subject``: citizens — their resident ID number once real-name bound, else
    ``acct:<account id>``; enterprises — the credit code they act for; staff — their
    staff id; machines — their client id. ``acr``: L1 password/SMS, L2 real-name bound,
    L3 face-verified recently. ``session_id`` ties access tokens to a sign-in session.
    """

    subject: str
    principal_type: str
    roles: tuple[str, ...] = ()
    key_id: str = ""
    acr: str = "L1"
    session_id: str | None = None
    department: str | None = None
    scopes: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
