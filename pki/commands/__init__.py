"""The CLI's commands, one small module per group; ``pki.cli`` composes them.

Command modules import the library inside the command functions, so ``pki --help`` and the
process start stay cheap (no ``cryptography.x509`` at import time).
"""
