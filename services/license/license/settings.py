from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "license"

    # The issuing department named on every license; its seal signs them.
    seal_issuer: str = "一网通办电子证照中心"
    # PEM (PKCS#8) of the Ed25519 seal key. Empty in the standalone run: a key file
    # is created under var_dir on first use.
    seal_private_key: str = ""
    # JWKS of retired seal keys, so licenses sealed before a key rotation still verify.
    seal_retired_public_keys: str = ""
