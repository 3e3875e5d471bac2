"""Reusable test harness: a real PKI home, real nginx and real gunicorn as child processes.

Everything runs on loopback ports chosen at run time, in temporary directories, so it is
xdist-safe. Import the pieces you need:

    from tests.harness.pki_site import PkiSite          # CA + server cert + users, made by `pki`
    from tests.harness.stack import EdgeStack           # PkiSite + supply (gunicorn) + nginx
    from tests.harness.clients import curl, s_client, https_client

As pytest fixtures (session-scoped per xdist worker), in a conftest.py:

    from tests.harness.fixtures import edge_stack, pki_site  # noqa: F401

``edge_stack`` is one running stack: ``edge_stack.url("/supply/api/whoami/")``,
``edge_stack.new_user("Jane Doe", role="clerk")`` (a .p12 from ``pki`` mapped with
``supply grant``), ``edge_stack.supply_command(...)``, ``edge_stack.pki_command(...)``,
``edge_stack.nginx.reload()``. With ``DATABASE_URL`` pointing at PostgreSQL the stack gets its own
freshly created database (dropped afterwards); otherwise a SQLite file in its directory.

Tools needed: nginx, curl, openssl on PATH; tests skip with a reason when one is missing.
"""
