"""Backups of a supply stack: the database with its engine's own tools and the PKI home through
``pki.backup``, in a directory whose manifest vouches for every file; restore onto an empty
stack; a schedule for the compose ``backup`` service.

    database    which database (engine, connection), from a Django DATABASES entry
    contents    migration state, counts and emptiness, the same SQL on both engines
    manifest    the manifest: read, written, and every file checked against it
    sqlite      SQLite's online backup API, both ways
    postgres    pg_dump -Fc; pg_restore | psql in one transaction
    archive     make_backup, check_backup, restore_backup
    schedule    the loop of `backup-schedule`, its status file and `backup-status`
    errors      BackupError, the app's branch of supply's error tree

The commands (supply/backup/management/commands/) only parse options and print.
"""
