"""Shared options of the identity commands: which certificate, and the .p12 password."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from pki.errors import PkiError
from pki.secrets import P12_PASSWORD_ENV, read_secret_file, secret_from_env
from supply.identity.errors import IdentityError
from supply.identity.services import Binding, load_certificate, login_refusal


def add_certificate_options(
    parser: CommandParser, *, pin: bool = True, force: bool = False
) -> None:
    parser.add_argument("--cert", type=Path, help="the user's certificate: PEM or .p12")
    if force:
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "bind a --cert that cannot log in here yet (say, a visitor whose site CA and "
                "CRL are imported later)"
            ),
        )
    parser.add_argument(
        "--password-file",
        type=Path,
        help="the .p12 password (first line); else $PKI_P12_PASSWORD, else a prompt",
    )
    parser.add_argument("--subject-dn", help="instead of --cert: the subject DN (RFC 4514)")
    parser.add_argument("--issuer-dn", help="with --subject-dn: the issuer DN (RFC 4514)")
    parser.add_argument(
        "--anchor", help="with --upn or --email: the trust anchor (`pki trust list`), e.g. dod"
    )
    parser.add_argument(
        "--upn", help="instead of --cert: the card's UPN under --anchor, e.g. 1234567890@mil"
    )
    parser.add_argument("--email", help="instead of --cert: the email under --anchor")
    if pin:
        parser.add_argument(
            "--pin",
            action="store_true",
            help="bind only this certificate (its SHA-256), not every one with its DN",
        )


def _password(path: Path | None) -> bytes:
    if path is not None:
        try:  # pki's rule for secret files: the first line without its line ending
            return read_secret_file(path, "password-file")
        except PkiError as exc:
            raise IdentityError(str(exc)) from None
    env = secret_from_env(P12_PASSWORD_ENV)
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise IdentityError(
            "password: The .p12 needs its password: --password-file, PKI_P12_PASSWORD "
            "or a terminal."
        )
    return getpass.getpass("Password of the .p12: ").encode()


def binding_from_options(options: dict[str, Any]) -> Binding:
    cert, subject, issuer = options["cert"], options["subject_dn"], options["issuer_dn"]
    upn, email, anchor = options.get("upn"), options.get("email"), options.get("anchor")
    given = [name for name, value in (("--cert", cert), ("--subject-dn", subject or issuer),
             ("--upn", upn), ("--email", email)) if value]  # fmt: skip
    if len(given) > 1:
        raise CommandError(f"{given[0]}: Give one of {' or '.join(given)}, not both.")
    if upn or email:
        if not anchor:
            raise CommandError(f"--anchor: {given[0]} needs the anchor it is under: --anchor NAME.")
        if options.get("pin"):
            raise CommandError("--pin: Needs --cert (the fingerprint comes from the certificate).")
        return Binding.from_value(anchor, "upn" if upn else "email", str(upn or email))
    if anchor:
        raise CommandError("--anchor: Only with --upn or --email (--cert finds its anchor).")
    if cert is not None:
        certificate = load_certificate(cert, lambda: _password(options["password_file"]))
        if "force" in options and not options["force"]:
            reason = login_refusal(certificate)
            if reason:
                raise IdentityError(
                    f"cert: {cert} cannot log in here: {reason} Renew it or import its CA and "
                    "CRL, or give --force to bind it anyway."
                )
        return Binding.from_certificate(certificate, pin=bool(options.get("pin")))
    if not (subject and issuer):
        raise CommandError(
            "--cert: Give --cert FILE, both --subject-dn and --issuer-dn, or --anchor with "
            "--upn or --email."
        )
    if options.get("pin"):
        raise CommandError("--pin: Needs --cert (the fingerprint comes from the certificate).")
    return Binding.from_dns(subject, issuer)
