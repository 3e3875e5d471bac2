"""The one exception tree of the pki library.

    PkiError                 every failure a user can cause or fix; the CLI prints it, exits 1
    ├── NoCAError            the PKI home has no CA yet
    ├── CAExistsError        init-ca would overwrite an existing CA
    ├── PassphraseError      wrong or unusable CA passphrase / .p12 password
    ├── InputError           a bad argument: SAN, key type, reason, days, CSV row, ...
    ├── NotFoundError        no issued certificate matches an ID
    ├── AmbiguousError       an ID (a name) matches more than one certificate
    ├── CertificateError     a certificate that fails a check (parsing, issuer, profile, validity)
    ├── WriteError           a file pki must write cannot be written (it stops a batch)
    ├── LogError             the audit log fails its check (edited, reordered, truncated)
    └── BackupError          a backup archive that cannot be read, decrypted or restored

Messages are one line of the form ``what: Sentence.`` so they read well on stderr.
"""

from __future__ import annotations


class PkiError(Exception):
    """Base class: a failure with a message meant for the person at the terminal."""


class NoCAError(PkiError):
    pass


class CAExistsError(PkiError):
    pass


class PassphraseError(PkiError):
    pass


class InputError(PkiError):
    pass


class NotFoundError(PkiError):
    pass


class AmbiguousError(PkiError):
    pass


class CertificateError(PkiError):
    pass


class WriteError(PkiError):
    pass


class LogError(PkiError):
    pass


class BackupError(PkiError):
    pass


class ReleaseError(PkiError):
    """An offline update bundle that cannot be made, trusted or loaded (pki/release)."""
