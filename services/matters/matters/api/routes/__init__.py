from matters.api.routes import matters

ROUTERS = [matters.router]
