from matters.api.routes import bundles, matters, search

ROUTERS = [matters.router, bundles.router, search.router]
