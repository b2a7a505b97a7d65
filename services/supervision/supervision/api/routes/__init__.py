from supervision.api.routes import cases, handlings, metrics, reviews, warnings

ROUTERS = [cases.router, warnings.router, reviews.router, handlings.router, metrics.router]
