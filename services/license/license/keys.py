"""The seal keyring and the PII cipher of one app, loaded once on first use.

The app loads them when it starts (so a missing key stops it at once), while building
the app for its OpenAPI document needs none; the event handlers share the same ones.
"""

from __future__ import annotations

from functools import cached_property

from license.seal import SealKeyring
from license.settings import Settings
from yiwang_platform.pii import PiiCipher


class Keys:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def keyring(self) -> SealKeyring:
        return SealKeyring.from_settings(self.settings)

    @cached_property
    def cipher(self) -> PiiCipher:
        return PiiCipher.from_settings(self.settings)
