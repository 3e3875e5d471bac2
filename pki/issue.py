"""Issuing server and user certificates from the CA of a PKI home."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pki import audit, constraints, keys, names, p12, profiles
from pki.ca import LoadedCA, load_ca
from pki.certinfo import CertInfo, describe, serial_hex
from pki.errors import InputError, PkiError
from pki.files import atomic_write
from pki.home import PkiHome, as_home, p12_file_name
from pki.index import Index, IndexRow

_SERIAL_ATTEMPTS = 5


@dataclass(frozen=True)
class IssuedServer:
    info: CertInfo
    cert_path: Path
    key_path: Path
    chain_path: Path  # fullchain.pem: leaf then CA, as nginx's ssl_certificate wants
    superseded: tuple[str, ...] = ()  # serials revoked by --replace


@dataclass(frozen=True)
class IssuedUser:
    info: CertInfo
    cert_path: Path  # issued/<SERIAL>.pem
    chain_path: Path  # the CA certificate
    p12_path: Path | None = None
    key_path: Path | None = None  # PEM export only: PKCS#8 encrypted with the password
    pem_path: Path | None = None  # PEM export only: the certificate followed by the CA's
    same_name: tuple[str, ...] = ()  # serials of other valid user certificates with this name


# A file to write once the serial is known and the index is locked: (path, bytes, exclusive).
_Artifact = tuple[Path, bytes, bool]


def _check_lifetime(ca: LoadedCA, not_after: dt.datetime) -> None:
    # A leaf outliving its CA stops validating when the CA expires (RFC 5280 6.1.3 (a)(2)).
    if not_after > ca.cert.not_valid_after_utc:
        raise InputError(
            f"days: The certificate would outlive the CA, which expires "
            f"{ca.cert.not_valid_after_utc:%Y-%m-%d}."
        )


def _sign(
    ca: LoadedCA,
    *,
    profile: profiles.Profile,
    subject: x509.Name,
    public_key: keys.PublicKey,
    sans: Sequence[x509.GeneralName],
    days: int,
    name_constraints: x509.NameConstraints | None = None,
) -> x509.Certificate:
    """One certificate with a fresh random serial; a leaf must fit the CA's name constraints."""
    if not profile.is_ca:
        common = subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        constraints.check(ca.name_constraints, sans, str(common[0].value) if common else "")
    not_before, not_after = profiles.validity(days)
    _check_lifetime(ca, not_after)
    return profiles.build(
        profile,
        subject=subject,
        public_key=public_key,
        issuer=ca.issuer(),
        # 159 random bits, positive, within RFC 5280 4.1.2.2's 20 octets.
        serial=x509.random_serial_number(),
        not_before=not_before,
        not_after=not_after,
        sans=sans,
        name_constraints=name_constraints,
    )


@dataclass(frozen=True)
class _Record:
    """How a signed certificate goes into the index and the log."""

    kind: str
    name: str
    key_type: str
    supersedes: Callable[[Index], Sequence[str]] | None = None
    written: Callable[[x509.Certificate], None] | None = None
    event: str | None = None


def _commit(
    h: PkiHome,
    cert: x509.Certificate,
    files: Sequence[_Artifact],
    how: _Record,
    index: Index | None = None,
) -> tuple[IndexRow, tuple[str, ...]] | None:
    """Under the index's write lock: check the serial is unused (None when it is taken), write
    the certificate and its files, insert the row and log it, in one commit. ``index`` is an
    open connection to reuse (a batch keeps one: opening and closing per row costs more than
    the row's own work)."""
    serial = serial_hex(cert.serial_number)
    connection = contextlib.nullcontext(index) if index is not None else h.index()
    with connection as db, db.write():
        if db.has_serial(serial):
            return None
        replaced = tuple(how.supersedes(db)) if how.supersedes is not None else ()
        created: list[Path] = []
        try:
            atomic_write(h.issued_cert(serial), cert.public_bytes(Encoding.PEM))
            created.append(h.issued_cert(serial))
            for path, data, exclusive in files:
                try:
                    atomic_write(path, data, exclusive=exclusive)
                except FileExistsError:
                    raise InputError(f"out: {path} exists already.") from None
                if exclusive:
                    created.append(path)
            if how.written is not None:
                how.written(cert)
            info = describe(cert)
            row = IndexRow.of(info, kind=how.kind, name=how.name, key_type=how.key_type)
            db.insert(row)
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            for old in replaced:
                db.mark_revoked(old, now, "superseded")
            details = {"superseded": list(replaced)} if replaced else {}
            entry = audit.Event(
                how.event or f"issue-{how.kind}", (serial,), (info.subject_dn,), details
            )
            audit.record(h, db, entry)  # last: it commits with the row
        except BaseException:
            for path in created:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        return row, replaced


def sign_and_record(
    h: PkiHome,
    ca: LoadedCA,
    *,
    profile: profiles.Profile,
    subject: x509.Name,
    public_key: keys.PublicKey,
    sans: Sequence[x509.GeneralName],
    days: int,
    name: str,
    artifacts: Callable[[x509.Certificate], list[_Artifact]],
    supersedes: Callable[[Index], Sequence[str]] | None = None,
    written: Callable[[x509.Certificate], None] | None = None,
    name_constraints: x509.NameConstraints | None = None,
    event: str | None = None,
) -> tuple[x509.Certificate, IndexRow, tuple[str, ...]]:
    """Sign with a fresh random serial, then, under the index's write lock, check the serial is
    unused, write the certificate and its artifacts, and insert the index row.

    ``supersedes`` runs first inside that transaction: it may refuse (raise) or return serials
    that the new certificate replaces, which are marked revoked as superseded in the same commit.
    ``written`` runs once the files are written and before the row commits, so what it records
    (a generated password) exists for every certificate in the index, even if the process dies.
    When a step fails before the commit, the files this call created are removed again (files it
    replaced, a server's, stay replaced).

    The slow work (signing, .p12 encryption) happens before the lock; a serial collision (odds
    2^-159 per pair) just repeats it. A leaf must fit the CA's own name constraints;
    ``name_constraints`` is what a signed CA certificate carries.
    """
    how = _Record(profile.kind, name, keys.key_type_of(public_key), supersedes, written, event)
    for _ in range(_SERIAL_ATTEMPTS):
        cert = _sign(
            ca,
            profile=profile,
            subject=subject,
            public_key=public_key,
            sans=sans,
            days=days,
            name_constraints=name_constraints,
        )
        done = _commit(h, cert, artifacts(cert), how)
        if done is not None:
            return cert, *done
    raise PkiError("serial: Could not find an unused serial number; the index may be damaged.")


def issue_server(
    home: PkiHome | Path | str,
    name: str,
    *,
    sans: Sequence[str] = (),
    days: int | None = None,
    passphrase: bytes,
    key_type: str = keys.DEFAULT_KEY_TYPE,
    replace: bool = False,
    ca: LoadedCA | None = None,
    audit_op: str | None = None,
) -> IssuedServer:
    """A TLS server certificate for ``name`` (a DNS name or IP, always the first SAN).

    Writes ``servers/<NAME>/cert.pem``, ``key.pem`` (0600, unencrypted, for nginx) and
    ``fullchain.pem``. A name with a valid certificate already is refused unless ``replace``, which
    revokes the old ones as superseded once the new one is in place.
    """
    h = as_home(home)
    canonical, san_list = names.server_sans(name, sans)
    lifetime = profiles.check_days("server", days)
    kt = keys.key_type(key_type)
    ca = ca or load_ca(h, passphrase)

    def supersedes(index: Index) -> list[str]:
        current = index.rows(
            "WHERE kind = 'server' AND name = ? AND status = 'valid'", (canonical,)
        )
        if current and not replace:
            raise InputError(
                f"name: {canonical} has a valid certificate already ({current[0].serial}); "
                "pass --replace to supersede it."
            )
        return [row.serial for row in current]

    with h.index() as index:
        supersedes(index)  # fail before generating a key; checked again under the lock
    key = kt.generate()
    subject = names.subject(canonical, org=names.organization(ca.cert.subject))
    d = h.server_dir(canonical)

    def artifacts(cert: x509.Certificate) -> list[_Artifact]:
        pem = cert.public_bytes(Encoding.PEM)
        return [
            (d / "key.pem", keys.plain_pem(key), False),
            (d / "cert.pem", pem, False),
            (d / "fullchain.pem", pem + ca.pem, False),
        ]

    cert, _, replaced = sign_and_record(
        h,
        ca,
        profile=profiles.SERVER,
        subject=subject,
        public_key=key.public_key(),
        sans=san_list,
        days=lifetime,
        name=canonical,
        artifacts=artifacts,
        supersedes=supersedes,
        event=audit_op,
    )
    return IssuedServer(
        describe(cert), d / "cert.pem", d / "key.pem", d / "fullchain.pem", replaced
    )


@dataclass(frozen=True)
class UserRequest:
    """A person's certificate, and how to hand it over.

    The person: ``full_name`` (the CN, kept exactly as given), ``email`` (an rfc822Name SAN and
    the emailProtection EKU) and ``org_unit`` (OU). The certificate: ``days`` (default 365) and
    ``key_type``. The export: a .p12 protected by ``password`` (``legacy`` for 3DES/SHA-1), or with
    ``pem`` the certificate and a PKCS#8 key encrypted with it. The file goes to ``out`` (never
    overwritten), else ``<out_dir>/<Name>-<SERIAL>.p12`` (``out_dir`` defaults to the home's
    ``users/``; see ``pki.home.p12_file_name``).
    """

    full_name: str
    _: KW_ONLY
    password: bytes
    email: str | None = None
    org_unit: str | None = None
    days: int | None = None
    key_type: str = keys.DEFAULT_KEY_TYPE
    legacy: bool = False
    pem: bool = False
    out: Path | None = None
    out_dir: Path | None = None


def issue_user(
    home: PkiHome | Path | str,
    request: UserRequest,
    *,
    passphrase: bytes,
    ca: LoadedCA | None = None,
) -> IssuedUser:
    """A client-authentication certificate for a person, exported as a password-protected .p12.

    The .p12 holds the key, the certificate, the CA and the full name as friendly name (see
    ``UserRequest`` for where it goes and the PEM alternative). The request is checked before the
    CA key is decrypted; pass a loaded ``ca`` to issue many without decrypting it each time.
    """
    h = as_home(home)
    lifetime, kt = _check_user(request)
    issued = _issue_user(h, request, ca or load_ca(h, passphrase), lifetime, kt, None)
    with h.index() as index:
        others = index.rows(
            "WHERE kind = 'user' AND name = ? AND status = 'valid' AND serial != ?",
            (request.full_name, issued.info.serial),
        )
    return replace(issued, same_name=tuple(row.serial for row in others))


def issue_user_recording(
    home: PkiHome | Path | str,
    request: UserRequest,
    *,
    ca: LoadedCA,
    record: Callable[[str, Path], None],
) -> IssuedUser:
    """``issue_user`` for ``pki.batch``: ``record(serial, p12_path)`` runs once the .p12 is on disk
    and before its index row commits, so a generated password is on record for every certificate
    the index knows, even if the process dies half-way. If ``record`` raises, nothing is indexed
    and the files of this certificate are removed."""
    h = as_home(home)
    lifetime, kt = _check_user(request)
    return _issue_user(h, request, ca, lifetime, kt, record)


def issue_user_superseding(
    home: PkiHome | Path | str, request: UserRequest, old_serial: str, *, passphrase: bytes
) -> IssuedUser:
    """``issue_user`` for ``pki renew``: in the commit that records the new certificate, the
    old one (still valid, or this refuses) is marked revoked as superseded."""
    h = as_home(home)
    lifetime, kt = _check_user(request)
    ca = load_ca(h, passphrase)

    def supersedes(index: Index) -> list[str]:
        current = index.get(old_serial)
        if current is None or current.status != "valid":
            raise InputError(f"ID: {old_serial} is no longer valid; nothing was renewed.")
        return [old_serial]

    return _issue_user(h, request, ca, lifetime, kt, None, supersedes)


def _check_user(request: UserRequest) -> tuple[int, keys.KeyType]:
    """Every check that needs no CA, so bad input fails before the passphrase is tried."""
    lifetime = profiles.check_days("user", request.days)
    kt = keys.key_type(request.key_type)
    minimum = keys.MIN_PKCS8_SECRET_LENGTH if request.pem else keys.MIN_SECRET_LENGTH
    keys.check_secret(request.password, "password", minimum)
    names.subject(request.full_name, org_unit=request.org_unit)
    if request.email:
        names.email_san(request.email)
    if request.out is not None and request.out.exists():
        raise InputError(f"out: {request.out} exists already.")
    return lifetime, kt


@dataclass(frozen=True)
class _UserParts:
    profile: profiles.Profile
    subject: x509.Name
    key: keys.PrivateKey
    sans: list[x509.GeneralName]


def _user_parts(request: UserRequest, ca: LoadedCA, kt: keys.KeyType) -> _UserParts:
    r = request
    return _UserParts(
        profile=profiles.USER_WITH_EMAIL if r.email else profiles.USER,
        subject=names.subject(
            r.full_name, org=names.organization(ca.cert.subject), org_unit=r.org_unit or None
        ),
        key=kt.generate(),
        sans=[names.email_san(r.email)] if r.email else [],
    )


def _user_files(
    h: PkiHome, r: UserRequest, ca: LoadedCA, key: keys.PrivateKey, cert: x509.Certificate
) -> dict[str, tuple[Path, bytes]]:
    """The files of a user's certificate by role: ``p12``, or ``key`` and ``cert`` (PEM)."""
    serial = serial_hex(cert.serial_number)
    if r.pem:
        base = r.out or (r.out_dir or h.users_dir) / serial
        return {
            "key": (base.with_name(f"{base.name}-key.pem"), keys.encrypted_pem(key, r.password)),
            "cert": (
                base.with_name(f"{base.name}-cert.pem"),
                cert.public_bytes(Encoding.PEM) + ca.pem,
            ),
        }
    name = p12_file_name(r.full_name, serial)
    path = r.out or (r.out_dir / name if r.out_dir else h.user_p12(serial, r.full_name))
    data = p12.export(
        key=key,
        cert=cert,
        chain=[ca.cert, *ca.chain],
        friendly_name=r.full_name,
        password=r.password,
        legacy=r.legacy,
    )
    return {"p12": (path, data)}


def _issued_user(h: PkiHome, cert: x509.Certificate, paths: dict[str, Path]) -> IssuedUser:
    return IssuedUser(
        info=describe(cert),
        cert_path=h.issued_cert(serial_hex(cert.serial_number)),
        chain_path=h.ca_cert,
        p12_path=paths.get("p12"),
        key_path=paths.get("key"),
        pem_path=paths.get("cert"),
    )


def _issue_user(
    h: PkiHome,
    request: UserRequest,
    ca: LoadedCA,
    lifetime: int,
    kt: keys.KeyType,
    record: Callable[[str, Path], None] | None,
    supersedes: Callable[[Index], Sequence[str]] | None = None,
) -> IssuedUser:
    r = request
    parts = _user_parts(r, ca, kt)
    paths: dict[str, Path] = {}

    def artifacts(cert: x509.Certificate) -> list[_Artifact]:
        files = _user_files(h, r, ca, parts.key, cert)
        paths.update({role: path for role, (path, _) in files.items()})
        return [(path, data, True) for path, data in files.values()]

    cert, _, _ = sign_and_record(
        h,
        ca,
        profile=parts.profile,
        subject=parts.subject,
        public_key=parts.key.public_key(),
        sans=parts.sans,
        days=lifetime,
        name=r.full_name,
        artifacts=artifacts,
        written=(
            (lambda cert: record(serial_hex(cert.serial_number), paths["p12"]))
            if record is not None and not r.pem
            else None
        ),
        supersedes=supersedes,
        event="renew" if supersedes is not None else None,
    )
    return _issued_user(h, cert, paths)


@dataclass(frozen=True)
class PreparedUser:
    """A user's certificate signed and its .p12 encrypted, not yet in the home: what a worker
    process makes (``prepare_user``) and the batch's one writer records (``record_user``)."""

    cert_der: bytes
    p12_path: Path
    p12_data: bytes
    key_type: str


def prepare_user(home: PkiHome | Path | str, request: UserRequest, ca: LoadedCA) -> PreparedUser:
    """The slow, pure part of issuing a .p12 user: checks, key, signature, .p12 encryption.
    Touches no file, so it can run in another process."""
    h = as_home(home)
    if request.pem:
        raise InputError("pem: A prepared user is always a .p12.")
    lifetime, kt = _check_user(request)
    parts = _user_parts(request, ca, kt)
    cert = _sign(
        ca,
        profile=parts.profile,
        subject=parts.subject,
        public_key=parts.key.public_key(),
        sans=parts.sans,
        days=lifetime,
    )
    path, data = _user_files(h, request, ca, parts.key, cert)["p12"]
    return PreparedUser(cert.public_bytes(Encoding.DER), path, data, kt.name)


def record_user(
    home: PkiHome | Path | str,
    request: UserRequest,
    prepared: PreparedUser,
    *,
    ca: LoadedCA,
    record: Callable[[str, Path], None],
    index: Index | None = None,
) -> IssuedUser:
    """Write and index a prepared user as ``issue_user_recording`` would (``record`` runs before
    the row commits), through ``index`` when given. A serial already taken (odds 2^-159)
    issues the user afresh instead."""
    h = as_home(home)
    cert = x509.load_der_x509_certificate(prepared.cert_der)
    how = _Record(
        "user",
        request.full_name,
        prepared.key_type,
        written=lambda c: record(serial_hex(c.serial_number), prepared.p12_path),
    )
    if _commit(h, cert, [(prepared.p12_path, prepared.p12_data, True)], how, index) is None:
        return issue_user_recording(h, request, ca=ca, record=record)
    return _issued_user(h, cert, {"p12": prepared.p12_path})
