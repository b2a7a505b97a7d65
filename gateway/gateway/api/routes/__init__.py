from gateway.api.routes import access_log, docs, proxy

# The catch-all proxy goes last so the gateway's own routes win.
ROUTERS = [access_log.router, docs.router, proxy.router]
