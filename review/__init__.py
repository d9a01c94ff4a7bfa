"""Review: the service every reviewer action goes through (service.py) and the web app (web/)."""
