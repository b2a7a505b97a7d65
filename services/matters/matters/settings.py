from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "matters"
    # Publish the catalogue under matters/seed/ at start when the catalogue is empty.
    seed_catalogue: bool = True
