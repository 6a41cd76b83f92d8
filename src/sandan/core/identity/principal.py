"""Who is acting: a user, an API token, a device, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sandan.core.identity.roles import ROLE_READS_ALL, ROLE_SCOPES, Resource, Role, Scope

PrincipalKind = Literal["user", "token", "device", "system"]


@dataclass(frozen=True)
class Principal:
    """The caller of every service function, bound to one company or to the complex."""

    kind: PrincipalKind
    name: str
    company_id: int | None
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    user_id: int | None = None
    credential_id: int | None = None
    device_id: int | None = None
    # Companies whose rows a signed contract lets this principal read, per resource.
    grants: dict[Resource, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def system(cls, name: str = "system") -> Principal:
        """The platform itself (migrations, demo seeding, CLI run by the host's operator)."""
        return cls(
            kind="system",
            name=name,
            company_id=None,
            roles=frozenset({Role.complex_operator}),
            scopes=frozenset(Scope),
        )

    @classmethod
    def for_user(
        cls,
        user_id: int,
        name: str,
        company_id: int | None,
        roles: frozenset[Role],
        scopes: frozenset[Scope] | None = None,
        credential_id: int | None = None,
    ) -> Principal:
        """A user's principal; a token narrows the role scopes to its own."""
        role_scopes = frozenset().union(*(ROLE_SCOPES[r] for r in roles)) if roles else frozenset()
        effective = role_scopes if scopes is None else role_scopes & scopes
        return cls(
            kind="user" if credential_id is None else "token",
            name=name,
            company_id=company_id,
            roles=roles,
            scopes=effective,
            user_id=user_id,
            credential_id=credential_id,
        )

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        if self.kind == "device":
            return f"device:{self.device_id}"
        if self.kind == "token":
            return f"token:{self.credential_id}/user:{self.user_id}"
        if self.kind == "user":
            return f"user:{self.user_id}"
        return f"system:{self.name}"

    @property
    def is_operator(self) -> bool:
        return Role.complex_operator in self.roles

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def reads_all(self, resource: Resource) -> bool:
        """Whether a complex-level duty lets this principal read every company's rows."""
        return any(resource in ROLE_READS_ALL.get(role, frozenset()) for role in self.roles)

    def readable_company_ids(self, resource: Resource) -> frozenset[int]:
        """Own company plus companies granted by contract; meaningless when reads_all."""
        own = frozenset() if self.company_id is None else frozenset({self.company_id})
        return own | self.grants.get(resource, frozenset())

    def writes_company(self, company_id: int | None) -> bool:
        """Operators write anywhere; everyone else only in their own company."""
        if self.is_operator:
            return True
        return company_id is not None and company_id == self.company_id
