from intake.api.routes import applications

ROUTERS = [applications.router]
