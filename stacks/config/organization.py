"""The ``organization`` and ``accounts`` sections: the OU tree and the accounts with their roles."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator

from stacks.config._base import ACCOUNT_ID, EMAIL, NAME, ORGANIZATION_ID, OU_ID, OU_NAME, ROOT_ID, Model


class AccountRole(enum.StrEnum):
    MANAGEMENT = "management"
    LOG_ARCHIVE = "log-archive"
    AUDIT = "audit"
    WORKLOAD = "workload"


class OrganizationalUnit(Model):
    """An OU; ``children`` nest. With ``id`` it exists already and is referenced, else it is created."""

    name: str = Field(description="OU name, unique in the whole tree")
    id: str | None = Field(
        default=None, description="id of an existing OU (ou-xxxx-xxxxxxxx): referenced, not created; absent: created"
    )
    children: list[OrganizationalUnit] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not OU_NAME.match(value):
            raise ValueError("is not an OU name (1-128 letters, digits, space, '_', '.', '-')")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not OU_ID.match(value):
            raise ValueError(
                "is not an OU id like 'ou-ab12-cd34ef56' (Organizations: ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)"
            )
        return value

    def walk(self) -> Iterator[OrganizationalUnit]:
        yield self
        for child in self.children:
            yield from child.walk()


class Organization(Model):
    """AWS Organizations settings; absent means single-account mode.

    The organization exists (the management account runs it): the stacks reference it by ``id``.
    ``create: true`` makes the management stack create it instead (see docs/organization.md "Deploying into your organization").
    """

    id: str | None = Field(
        default=None,
        description="organization id, o-xxxxxxxxxx (used in trail, bucket and key policies); "
        "required unless create is true and the organization is yet to be created",
    )
    create: bool = Field(
        default=False,
        description="create the organization in the management stack (only for an account that has none yet); "
        "default: reference the existing organization by id",
    )
    root_id: str | None = Field(
        default=None,
        description="id of the organization's root (r-xxxx); absent: read at deploy time (organizations:ListRoots)",
    )
    organizational_units: list[OrganizationalUnit] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not ORGANIZATION_ID.match(value):
            raise ValueError("is not an organization id like 'o-a1b2c3d4e5'")
        return value

    @field_validator("root_id")
    @classmethod
    def _root_id(cls, value: str | None) -> str | None:
        if value is not None and not ROOT_ID.match(value):
            raise ValueError("is not a root id like 'r-ab12' (Organizations: ^r-[0-9a-z]{4,32}$)")
        return value

    @property
    def pending_creation(self) -> bool:
        """``create: true`` without an id yet: only the organization itself can be deployed."""
        return self.id is None

    def all_units(self) -> list[OrganizationalUnit]:
        return [unit for top in self.organizational_units for unit in top.walk()]


class Account(Model):
    name: str = Field(description="short lower-case name, used in stack names")
    id: str = Field(description="12-digit AWS account id (quote it in YAML)")
    email: str = Field(description="root user email of the account")
    role: AccountRole
    ou: str | None = Field(default=None, description="name of the OU it belongs to; absent: the root")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("is not an account name (2-32 lower-case letters, digits or '-', starting with a letter)")
        return value

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if not isinstance(value, str) or not ACCOUNT_ID.match(value):
            raise ValueError("is not a 12-digit AWS account id (quote it in YAML so leading zeros survive)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("is not an email address")
        if not 6 <= len(value) <= 64:
            raise ValueError("is not an AWS account email: AWS Organizations takes 6-64 characters")
        return value
