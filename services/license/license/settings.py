from yiwang_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "license"

    # The issuing department named on every license; its seal signs them.
    seal_issuer: str = "一网通办电子证照中心"
    # The Ed25519 seal key: PEM (PKCS#8) text or the path of a PEM file. Required in the
    # distributed run; empty in the standalone run, where a key file is made under var_dir.
    seal_private_key: str = ""
    # JWKS of retired seal keys, so licenses sealed before a key rotation still verify.
    seal_retired_public_keys: str = ""
