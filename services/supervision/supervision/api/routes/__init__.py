from supervision.api.routes import cases, metrics, reviews

ROUTERS = [cases.router, reviews.router, metrics.router]
