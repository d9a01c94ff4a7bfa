"""The reviewers' web app (FastAPI + Jinja2, server-rendered): the only package that imports fastapi."""
