"""OPC UA security for the collector: its certificate, per-endpoint policy, mode and user,
and the trust list of server certificates (see docs/telemetry.md §9)."""

from sandan.telemetry.opcua_security.client import (
    REFUSAL_REASONS,
    SecurityRefused,
    refusal_of,
    secure_client,
)
from sandan.telemetry.opcua_security.config import (
    EndpointSecurity,
    OpcUaSecurity,
    endpoint_key,
    load_opcua_security,
    trusted_dir,
)
from sandan.telemetry.opcua_security.pki import (
    ApplicationCertificate,
    SecurityConfigError,
    TrustList,
    application_certificate,
)

__all__ = [
    "REFUSAL_REASONS",
    "ApplicationCertificate",
    "EndpointSecurity",
    "OpcUaSecurity",
    "SecurityConfigError",
    "SecurityRefused",
    "TrustList",
    "application_certificate",
    "endpoint_key",
    "load_opcua_security",
    "refusal_of",
    "secure_client",
    "trusted_dir",
]
