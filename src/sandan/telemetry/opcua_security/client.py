"""Securing one asyncua client before it connects, and naming why a server refused us.

The server's certificate is taken from its GetEndpoints answer (the discovery service every
OPC UA server offers without security) for the endpoint of exactly the configured policy and
mode, and checked against the trust list before anything is signed or encrypted for it.
There is no fallback: a server that offers no such endpoint, or whose certificate is not
trusted, is refused (`SecurityRefused`), and the collector retries with its usual backoff.
"""

from __future__ import annotations

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaStatusCodeError
from cryptography.hazmat.primitives.serialization import Encoding

from sandan.telemetry.opcua_security.config import POLICIES, EndpointSecurity
from sandan.telemetry.opcua_security.pki import describe, split_chain

__all__ = ["REFUSAL_REASONS", "SecurityRefused", "refusal_of", "secure_client"]

# Bounded labels of the `sandan_opcua_security_refusals` metric.
REFUSAL_REASONS = (
    "untrusted_server_certificate",
    "no_matching_endpoint",
    "user_rejected",
    "client_certificate_rejected",
)
_USER = {
    StatusCodes.BadUserAccessDenied,
    StatusCodes.BadIdentityTokenInvalid,
    StatusCodes.BadIdentityTokenRejected,
}
_CLIENT_CERTIFICATE = {
    StatusCodes.BadSecurityChecksFailed,
    StatusCodes.BadCertificateUntrusted,
    StatusCodes.BadCertificateInvalid,
    StatusCodes.BadCertificateUriInvalid,
    StatusCodes.BadCertificateTimeInvalid,
    StatusCodes.BadCertificateUseNotAllowed,
    StatusCodes.BadCertificateRevoked,
    StatusCodes.BadCertificateIssuerRevoked,
    StatusCodes.BadCertificateRevocationUnknown,
}


class SecurityRefused(ConnectionError):
    """A connection refused for a security reason; `reason` is one of REFUSAL_REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def secure_client(client: Client, security: EndpointSecurity) -> None:
    """Set the user, and for a secured endpoint the policy, mode and trusted server
    certificate, on a client that has not connected yet."""
    if security.username is not None and security.password is not None:
        client.set_user(security.username)
        client.set_password(security.password)
    if not security.secured:
        return
    certificate, trust, mode_name = security.certificate, security.trust, security.mode
    assert certificate is not None and trust is not None and mode_name is not None
    policy = POLICIES[security.policy]
    mode = getattr(ua.MessageSecurityMode, mode_name)
    client.application_uri = certificate.application_uri  # must match the certificate
    offered = await client.connect_and_get_server_endpoints()
    chosen = next(
        (
            ep
            for ep in offered
            if ep.SecurityPolicyUri == policy.URI
            and ep.SecurityMode == mode
            and ep.EndpointUrl.startswith(ua.OPC_TCP_SCHEME)
        ),
        None,
    )
    if chosen is None:
        offers = sorted(
            {f"{ep.SecurityPolicyUri.rpartition('#')[2]}/{ep.SecurityMode.name}" for ep in offered}
        )
        raise SecurityRefused(
            "no_matching_endpoint",
            f"the server offers no {security.policy}/{mode_name} endpoint (it offers: "
            f"{', '.join(offers) or 'nothing'}); {security.configured_as} asks for it",
        )
    chain = chosen.ServerCertificate or b""
    problem = trust.problem(chain)
    if problem is not None:
        leaf = split_chain(chain)
        saved = trust.reject(chain)
        name = describe(leaf[0]) if leaf else "(none)"
        hint = f"; it was saved as {saved}" if saved is not None else ""
        raise SecurityRefused(
            "untrusted_server_certificate",
            f"server certificate {name} is not trusted: {problem}{hint}. To trust it, copy "
            f"it into SANDAN_OPCUA_TRUSTED_DIR ({trust.trusted_dir})",
        )
    await client.set_security(
        policy,
        certificate.cert_der,
        certificate.key_der,
        server_certificate=split_chain(chain)[0].public_bytes(Encoding.DER),
        mode=mode,
    )


def refusal_of(exc: BaseException, security: EndpointSecurity | None) -> SecurityRefused | None:
    """The security reason behind a failed connect, or None for any other failure."""
    if isinstance(exc, SecurityRefused):
        return exc
    if not isinstance(exc, UaStatusCodeError):
        return None
    code = ua.StatusCode(exc.code)
    where = (
        security.configured_as if security is not None else "no SANDAN_OPCUA_SECURITY_FILE entry"
    )
    if exc.code in _USER:
        user = security.username if security is not None else None
        who = f"the user {user!r}" if user else "anonymous access"
        return SecurityRefused(
            "user_rejected",
            f"the server refused {who} ({code.name}); check username and password in {where}",
        )
    if exc.code in _CLIENT_CERTIFICATE:
        cert = security.certificate if security is not None else None
        path = f" ({cert.cert_path})" if cert is not None else ""
        return SecurityRefused(
            "client_certificate_rejected",
            f"the server refused Sandan's client certificate{path} ({code.name}); "
            "trust it on the server",
        )
    return None
