"""Where (区划与联络站): districts, streets and the liaison stations residents
and deputies use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base

if TYPE_CHECKING:  # the mapper finds it by name
    from routing.store.people import Agency


class District(Base):
    """区县: one of the city's county-level divisions."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    # 兜底单位: answers the district's tickets whose responsibility stays unclear
    # after a dispute. Agencies name their district too: the constraint is added
    # after both tables (use_alter), and a removed agency leaves no dangling name.
    fallback_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id", use_alter=True, ondelete="SET NULL")
    )

    fallback_agency: Mapped[Agency | None] = relationship(foreign_keys=[fallback_agency_id])
    streets: Mapped[list[Street]] = relationship(back_populates="district", order_by="Street.name")
    aliases: Mapped[list[PlaceAlias]] = relationship(
        primaryjoin="and_(PlaceAlias.district_id == District.id, PlaceAlias.street_id.is_(None))",
        order_by="PlaceAlias.id", viewonly=True,
    )


class Street(Base):
    """街道 / 乡镇: the level below a district."""

    __tablename__ = "street"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    name: Mapped[str] = mapped_column(String(32))

    district: Mapped[District] = relationship(back_populates="streets")
    aliases: Mapped[list[PlaceAlias]] = relationship(order_by="PlaceAlias.id", viewonly=True)


class PlaceAlias(Base):
    """别名: another name residents use for a district (street_id empty) or a
    street — 上城 for 上城区, 湖滨 for 湖滨街道.

    A table of its own rather than a list column on district and street: the
    unique index on ``alias`` keeps one name from pointing at two places
    across both tables, on every database, even when two administrators save
    at once; and the place detector reads every alias in one query.
    """

    __tablename__ = "place_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(32), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))


class Station(Base):
    """代表联络站: a liaison station where deputies meet constituents."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    address: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    district: Mapped[District] = relationship()
    street: Mapped[Street | None] = relationship()
