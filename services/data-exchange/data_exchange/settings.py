from typing import Literal

from pydantic import Field

from data_exchange.faces import DEFAULT_THRESHOLD
from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "data-exchange"

    # Face matching (人脸核验): the built-in dlib model, or a province's certified
    # provider over HTTP (see data_exchange.faces.HttpFaceMatcher for its API).
    face_matcher: Literal["dlib", "http"] = "dlib"
    face_matcher_url: str = ""
    face_matcher_timeout: float = 10.0
    # dlib only: a distance at or below this is a match (measurements beside the default).
    face_match_threshold: float = Field(default=DEFAULT_THRESHOLD, gt=0, lt=1.5)
    # Largest probe image (decoded bytes) the match endpoint takes; larger is 413.
    face_max_image_bytes: int = 2 * 1024 * 1024
