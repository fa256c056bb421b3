"""HTTP: the FastAPI app, routers, schemas, auth and error mapping."""
