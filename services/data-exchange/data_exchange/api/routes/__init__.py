from data_exchange.api.routes import (
    access_log,
    audit,
    faces,
    legal_persons,
    licenses,
    people,
    population,
)

ROUTERS = [
    population.router,
    people.router,
    legal_persons.router,
    licenses.router,
    access_log.router,
    audit.router,
    faces.router,
]
