"""What data-exchange builds at start from its settings and keeps for its life: the face
matcher (人脸核验, one per process so its model loads once) and the key that signs
checkpoints of its access log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from data_exchange.faces import DlibFaceMatcher, FaceMatcher, HttpFaceMatcher
from data_exchange.settings import Settings
from yiwang_platform.audit_checkpoints import CheckpointKey


@dataclass(frozen=True)
class Collaborators:
    matcher: FaceMatcher
    checkpoint_key: CheckpointKey


def build(settings: Any) -> Collaborators:
    if not isinstance(settings, Settings):
        raise TypeError("data-exchange's settings are not data_exchange.settings.Settings")
    matcher: FaceMatcher = (
        HttpFaceMatcher(settings.face_matcher_url, settings.face_matcher_timeout)
        if settings.face_matcher == "http"
        else DlibFaceMatcher(settings.face_match_threshold)
    )
    return Collaborators(matcher=matcher, checkpoint_key=CheckpointKey.from_settings(settings))
