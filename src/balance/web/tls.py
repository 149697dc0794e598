"""https for `balance serve --https`: a self-signed certificate the app makes for itself, once, and reuses.

Browsers open the camera only on https or on localhost, so a phone on the LAN needs https. The certificate
names every address the server can be reached at (localhost, the host given, this machine's own addresses);
it is signed by nobody, so a browser warns once per address, and the SHA-256 fingerprint printed at start-up
is what to compare with the one the browser shows.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from balance.errors import StoreError
from balance.files import write_atomic

# Browsers refuse server certificates valid for more than 398 days (CA/Browser Forum baseline requirements,
# 1.2.3 section 6.3.2; Chrome and Safari apply it to every certificate): renewed before then.
VALID_DAYS = 397
CERT, KEY = "cert.pem", "key.pem"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the certificate, as browsers show it (AA:BB:...)
    names: tuple[str, ...]


def own_addresses() -> set[str]:
    """This machine's addresses others may use: its name's addresses and the one its default route uses."""
    found = {"127.0.0.1", "::1"}
    with contextlib.suppress(OSError):
        found.update(str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None))
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # a documentation address: no packet is sent, only the route is chosen
        found.add(s.getsockname()[0])
    return {a.split("%", 1)[0] for a in found}


def certificate(folder: Path, host: str) -> Certificate:
    """The certificate in `folder`, made (or made again) when missing, expiring or not naming `host`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    names = sorted(
        {"localhost", socket.gethostname(), *own_addresses(), *([host] if host not in ("0.0.0.0", "::") else [])}
    )
    cert_path, key_path = folder / CERT, folder / KEY
    now = datetime.datetime.now(datetime.UTC)
    if cert_path.is_file() and key_path.is_file():
        try:
            old = x509.load_pem_x509_certificate(cert_path.read_bytes())
            have = set(_names(old))
            if set(names) <= have and old.not_valid_after_utc - now > datetime.timedelta(days=7):
                return Certificate(cert_path, key_path, _fingerprint(old), tuple(sorted(have)))
        except ValueError:
            pass  # damaged: made again below
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "balance serve")])
    alt = [x509.IPAddress(ipaddress.ip_address(n)) if _is_ip(n) else x509.DNSName(n) for n in names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_atomic(key_path, key_bytes, mode=0o600)  # the private key: readable by this user only
        write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    except OSError as exc:
        raise StoreError(
            f"cannot write the https certificate to {folder} ({exc.strerror})", "Give --data a folder you can write"
        ) from exc
    return Certificate(cert_path, key_path, _fingerprint(cert), tuple(names))


def _names(cert: object) -> list[str]:
    from cryptography import x509

    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value  # type: ignore[attr-defined]
    return [str(v) for v in ext.get_values_for_type(x509.DNSName)] + [
        str(v) for v in ext.get_values_for_type(x509.IPAddress)
    ]


def _fingerprint(cert: object) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex(":").upper()  # type: ignore[attr-defined]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
