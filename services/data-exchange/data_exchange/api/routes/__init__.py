from data_exchange.api.routes import access_log, faces, licenses, people, population

ROUTERS = [population.router, people.router, licenses.router, access_log.router, faces.router]
