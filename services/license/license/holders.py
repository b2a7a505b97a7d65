"""Who may see which licenses: staff all of them, citizens and enterprises their own
(found by the blind index of their ID number or credit code), anyone else none."""

from __future__ import annotations

from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher

HOLDER_TYPES = ("citizen", "enterprise")


def scope_of(principal: InternalPrincipal, cipher: PiiCipher) -> str | None:
    """Whose licenses the caller may see: None for staff (all), else the caller's own
    blind index."""
    if principal.principal_type == "staff":
        return None
    if principal.principal_type in HOLDER_TYPES:
        return cipher.blind_index(principal.subject)
    raise ProblemError(403, "forbidden", "无权访问")


def holder_index_of(principal: InternalPrincipal, cipher: PiiCipher) -> str:
    """The caller's blind index when the caller can hold licenses, else 403."""
    if principal.principal_type not in HOLDER_TYPES:
        raise ProblemError(403, "forbidden", "无权访问", detail="only holders have a wallet")
    return cipher.blind_index(principal.subject)
