"""`supply serve`: the gunicorn argument list (`launch`), gunicorn's hooks (`gunicorn_conf`) and the
command that execs it. An app only so Django finds the command; it has no models."""
