"""The FastAPI apps the labs run as real processes (``services.app("labsupport.apps.NAME:app")``)."""
