from data_exchange.api.routes import access_log, faces, legal_persons, licenses, people, population

ROUTERS = [
    population.router,
    people.router,
    legal_persons.router,
    licenses.router,
    access_log.router,
    faces.router,
]
