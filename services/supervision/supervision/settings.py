from pydantic import Field

from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "supervision"
    # 黄牌: shown when this many working days or fewer are left before the promised deadline.
    yellow_working_days: int = Field(default=1, ge=0, le=60)
    # 差评整改: working days a department has to handle a bad review.
    review_handling_working_days: int = Field(default=5, ge=1, le=60)
