"""``pki release``: offline update bundles signed by a release certificate of the fleet root."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pki.commands._common import (
    PassphraseFile,
    PlaceholderGroup,
    ca_passphrase,
    home,
    release_passphrase,
)

if TYPE_CHECKING:
    from cryptography import x509

release_app = typer.Typer(
    cls=PlaceholderGroup,
    help="Offline updates: signed image bundles (full or delta) for sites with no registry.",
    no_args_is_help=True,
)

KeyPassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--key-passphrase-file",
        help="File whose first line is the release key's passphrase (else "
        "$PKI_RELEASE_PASSPHRASE, else a prompt).",
        dir_okay=False,
    ),
]
TrustOption = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        help="PEM file of the fleet root to trust (default: the root of this home's CA chain).",
        dir_okay=False,
    ),
]


@release_app.command("issue")
def issue(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help='e.g. "Fleet Release 2027".')],
    days: Annotated[
        int | None, typer.Option("--days", help="Validity in days (default 730).")
    ] = None,
    key_type: Annotated[
        str, typer.Option("--key-type", help="ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096.")
    ] = "ec-p256",
    passphrase_file: PassphraseFile = None,
    key_passphrase_file: KeyPassphraseFile = None,
) -> None:
    """Issue a release (code-signing) certificate with this home's CA, the fleet root."""
    from pki.release.signer import issue_release

    h = home(ctx)
    h.require_ca()
    issued = issue_release(
        h,
        name,
        passphrase=ca_passphrase(passphrase_file),
        key_passphrase=release_passphrase(key_passphrase_file, confirm=True),
        days=days,
        key_type=key_type,
    )
    typer.echo(f"Issued release signer {issued.info.subject_dn} ({issued.info.serial}),")
    typer.echo(f"  valid until {issued.info.not_after:%Y-%m-%d}: {issued.directory}")
    typer.echo("Carry that directory to the machine that builds releases; its key is encrypted.")


@release_app.command("site-manifest")
def site_manifest(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write it here instead of stdout.", dir_okay=False),
    ] = None,
) -> None:
    """List this host's images and layers, for the delta bundle that updates it."""
    from pki.release.bundle import canonical
    from pki.release.bundle import site_manifest as make

    text = canonical(make()).decode() + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        from pki.files import atomic_write

        atomic_write(out, text.encode())
        typer.echo(f"Wrote {out}; carry it to the build machine for `pki release bundle --have`.")


@release_app.command("bundle")
def bundle(
    release: Annotated[str, typer.Option("--release", help="The release's image tag.")],
    signer: Annotated[
        Path,
        typer.Option(
            "--signer", help="Directory of `pki release issue` (releases/NAME).", file_okay=False
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The bundle to write.", dir_okay=False)],
    images: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="IMAGE...",
            help="Images to carry (default REGISTRY/supply, proxy and postgres of the release).",
        ),
    ] = None,
    have: Annotated[
        Path | None,
        typer.Option(
            "--have",
            help="A site's `pki release site-manifest`: carry only what it lacks.",
            dir_okay=False,
        ),
    ] = None,
    compose_dir: Annotated[
        Path,
        typer.Option(
            "--compose-dir",
            help="Where compose.yaml, env.example and LOAD.md are.",
            file_okay=False,
        ),
    ] = Path("docker"),
    registry: Annotated[
        str, typer.Option("--registry", help="Image name prefix.")
    ] = "tactical-edge",
    key_passphrase_file: KeyPassphraseFile = None,
) -> None:
    """Make a full bundle, or with --have a delta, signed with a release key."""
    from pki.release.bundle import make_bundle, read_site_manifest
    from pki.release.signer import load_signer

    refs = images or [
        f"{registry}/supply:{release}",
        f"{registry}/proxy:{release}",
        f"{registry}/postgres:17",
    ]
    site = read_site_manifest(have) if have is not None else None
    key = load_signer(signer, release_passphrase(key_passphrase_file))
    made = make_bundle(refs, out, key, release=release, compose_dir=compose_dir, have=site)
    typer.echo(
        f"Wrote {made.path}: a {made.kind} bundle of {len(refs)} images, {made.layers_carried} of "
        f"{made.layers_total} layers, {made.size / 1e6:.1f} MB, signed by "
        f"{key.cert.subject.rfc4514_string()}."
    )


def _roots(ctx: typer.Context, trust: Path | None) -> "list[x509.Certificate]":
    from pki.release.trust import load_roots, trusted_roots

    return load_roots(trust) if trust is not None else trusted_roots(home(ctx))


@release_app.command("verify")
def verify(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle file.", dir_okay=False)],
    trust: TrustOption = None,
) -> None:
    """Check a bundle completely (signature, every digest, layers this host must have)."""
    from pki.release.bundle import missing_layers, verified

    with verified(path, _roots(ctx, trust), workdir=None) as checked:
        missing = missing_layers(checked)
        typer.echo(
            f"{path}: a {checked.kind} bundle of release {checked.release} ({checked.created}), "
            f"signed by {checked.signer.subject} under {checked.signer.root}; every file matches."
        )
        for image in checked.images:
            typer.echo(f"  {image.ref}  {image.id[:19]}  {len(image.layers)} layers")
        if missing:
            typer.echo(
                f"This host lacks {len(missing)} layers the bundle leaves out: it cannot load it."
            )
            raise typer.Exit(1)


@release_app.command("load")
def load(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle file.", dir_okay=False)],
    trust: TrustOption = None,
    compose_out: Annotated[
        Path | None,
        typer.Option(
            "--compose-out", help="Copy the release's compose files here.", file_okay=False
        ),
    ] = None,
) -> None:
    """Verify a bundle, then load its images into this host's engine."""
    from pki.release.bundle import load as load_images
    from pki.release.bundle import verified

    with verified(path, _roots(ctx, trust), workdir=None) as checked:
        refs = load_images(checked, compose_out=compose_out)
    typer.echo(
        f"Loaded release {checked.release} ({checked.kind}, signed by {checked.signer.subject}):"
    )
    for ref in refs:
        typer.echo(f"  {ref}")
    if compose_out is not None:
        typer.echo(f"Its compose files are in {compose_out}; see LOAD.md there for the next step.")


def register(app: typer.Typer) -> None:
    app.add_typer(release_app, name="release")
