from data_exchange.api.routes import licenses, population

ROUTERS = [population.router, licenses.router]
