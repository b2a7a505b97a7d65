from license.api.routes import license_types, licenses, presentations, seal_keys, wallet

ROUTERS = [
    licenses.router,
    wallet.router,
    presentations.router,
    seal_keys.router,
    license_types.router,
]
