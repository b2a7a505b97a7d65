from gateway.api.routes import audit, auth, docs, me, proxy

# The catch-all proxy goes last so the gateway's own routes win.
ROUTERS = [auth.router, audit.router, me.router, docs.router, proxy.router]
