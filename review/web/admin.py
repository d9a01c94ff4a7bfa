"""Admins only: users (add, deactivate, issue an API token), learned label variants
(list, revoke) and agencies (list, merge), as a page with plain forms and as JSON.
A reviewer gets 403 everywhere here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from gongkai.models.agency import Agency
from gongkai.models.review import LabelVariant, Role, User
from gongkai.review.errors import InvalidValue, ItemNotFound

from .rendering import render
from .security import Caller, require_admin, service_of

router = APIRouter()
AdminDep = Annotated[Caller, Depends(require_admin)]

class NewUser(BaseModel):
    """The service checks the name and the password's length; this only bounds the input."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[StrictStr, Field(max_length=200)]
    role: Role
    password: Annotated[StrictStr, Field(max_length=1000)]


class ActiveFlag(BaseModel):
    active: StrictBool


class TokenAnswer(BaseModel):
    name: str
    token: str


# -- the page ---------------------------------------------------------------------------
def _admin_page(request: Request, caller: Caller, *, token_for: str | None = None, token: str | None = None,
                error: str | None = None, status_code: int = 200) -> Response:
    service = service_of(request)
    return render(request, "admin.html", {
        "user": caller.user, "users": service.list_users(caller.user),
        "variants": service.label_variants(caller.user, include_revoked=True),
        "agencies": service.agencies(caller.user),
        "token_for": token_for, "token": token, "error": error,
    }, status_code=status_code)


@router.get("/admin")
def admin_page(request: Request, caller: AdminDep) -> Response:
    return _admin_page(request, caller)


@router.post("/admin/users")
def admin_add_user(
    request: Request, caller: AdminDep,
    name: Annotated[str, Form(max_length=100)], role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        new = NewUser(name=name, role=role, password=password)  # type: ignore[arg-type]
    except ValueError as exc:
        return _admin_page(request, caller, error=f"user not added: {exc}", status_code=422)
    service_of(request).add_user(caller.user, new.name, new.role, new.password)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{name}/active")
def admin_set_active(
    request: Request, name: str, caller: AdminDep, active: Annotated[str, Form(pattern="^(true|false)$")],
) -> Response:
    service_of(request).set_user_active(caller.user, name, active == "true")
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{name}/token")
def admin_issue_token(request: Request, name: str, caller: AdminDep) -> Response:
    token = service_of(request).issue_token(caller.user, name)
    return _admin_page(request, caller, token_for=name, token=token)  # shown once, never stored in clear


@router.post("/admin/variants/{variant_id}/revoke")
def admin_revoke_variant(request: Request, variant_id: int, caller: AdminDep) -> Response:
    service_of(request).revoke_variant(caller.user, variant_id)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/agencies/merge")
def admin_merge_agencies(
    request: Request, caller: AdminDep,
    key: Annotated[str, Form(max_length=200)], other: Annotated[str, Form(max_length=200)],
) -> Response:
    try:
        service_of(request).merge_agencies(caller.user, key.strip(), other.strip())
    except (ItemNotFound, InvalidValue) as exc:
        return _admin_page(request, caller, error=f"not merged: {exc}", status_code=422)
    return RedirectResponse("/admin", status_code=303)


# -- the same actions as JSON ---------------------------------------------------------------
@router.get("/api/users")
def api_users(request: Request, caller: AdminDep) -> list[User]:
    return service_of(request).list_users(caller.user)


@router.post("/api/users")
def api_add_user(request: Request, caller: AdminDep, new: NewUser) -> User:
    return service_of(request).add_user(caller.user, new.name, new.role, new.password)


@router.post("/api/users/{name}/active")
def api_set_active(request: Request, name: str, caller: AdminDep, flag: ActiveFlag) -> User:
    return service_of(request).set_user_active(caller.user, name, flag.active)


@router.post("/api/users/{name}/token")
def api_issue_token(request: Request, name: str, caller: AdminDep) -> TokenAnswer:
    return TokenAnswer(name=name, token=service_of(request).issue_token(caller.user, name))


@router.get("/api/variants")
def api_variants(request: Request, caller: AdminDep, include_revoked: bool = False) -> list[LabelVariant]:
    return service_of(request).label_variants(caller.user, include_revoked=include_revoked)


class AgencyMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[StrictStr, Field(max_length=200)]
    other: Annotated[StrictStr, Field(max_length=200)]


@router.get("/api/agencies")
def api_agencies(request: Request, caller: AdminDep) -> list[Agency]:
    return service_of(request).agencies(caller.user)


@router.post("/api/agencies/merge")
def api_merge_agencies(request: Request, caller: AdminDep, merge: AgencyMerge) -> dict[str, int]:
    return {"moved_reports": service_of(request).merge_agencies(caller.user, merge.key, merge.other)}


@router.post("/api/variants/{variant_id}/revoke")
def api_revoke_variant(request: Request, variant_id: int, caller: AdminDep) -> LabelVariant:
    return service_of(request).revoke_variant(caller.user, variant_id)
