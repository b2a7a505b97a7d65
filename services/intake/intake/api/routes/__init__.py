from intake.api.routes import applications, cases, prefills, subcases, uploads

ROUTERS = [applications.router, cases.router, subcases.router, prefills.router, uploads.router]
