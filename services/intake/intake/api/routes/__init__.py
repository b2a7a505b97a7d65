from intake.api.routes import applications, cases

ROUTERS = [applications.router, cases.router]
