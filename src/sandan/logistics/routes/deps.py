"""Who may call: readers, tenants placing work (or the operator for them), the operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from sandan.core.errors import PermissionDenied
from sandan.core.http import current_principal, require
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope


def require_any(*scopes: Scope) -> Callable[..., Principal]:
    """A dependency that authenticates and demands at least one of the scopes."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not any(principal.has(s) for s in scopes):
            raise PermissionDenied(f"needs one of {', '.join(s.value for s in scopes)}")
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(Scope.registry_read))]
Orderer = Annotated[Principal, Depends(require_any(Scope.warehouse_order, Scope.warehouse_operate))]
Operator = Annotated[Principal, Depends(require(Scope.warehouse_operate))]
