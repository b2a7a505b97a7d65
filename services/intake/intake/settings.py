from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "intake"

    # Peers intake calls inside a request (distributed run; standalone uses in-process apps).
    peer_matters_url: str = "http://127.0.0.1:8001"
    peer_license_url: str = "http://127.0.0.1:8003"
    peer_data_exchange_url: str = "http://127.0.0.1:8004"
    # 容缺受理: working days the applicant has to supply missing non-key materials.
    supplement_days: int = 5
    # Window presence: how old an ID-card read or face check may be when recorded.
    presence_max_age_minutes: int = 60
