from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "supervision"
