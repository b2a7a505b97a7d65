from license.api.routes import licenses, seal_keys

ROUTERS = [licenses.router, seal_keys.router]
