from gateway.api.routes import audit, auth, docs, face, me, proxy

# The catch-all proxy goes last so the gateway's own routes win.
ROUTERS = [auth.router, face.router, audit.router, me.router, docs.router, proxy.router]
