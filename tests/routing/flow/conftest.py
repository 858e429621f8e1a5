"""Fixtures the workflow's tests share: the demo's agencies, the city's
housing bureau (市住建局) with one of its staff, and a dispatcher."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.store.people import Agency, Role

from .test_workflow import user as person


@pytest.fixture
def agencies(demo):
    return {a.name: a for a in demo.scalars(select(Agency))}


@pytest.fixture
def housing(agencies):
    return agencies["市住建局"]


@pytest.fixture
def housing_staff(demo, housing):
    return person(demo, Role.AGENCY, housing, "zhujian-staff")


@pytest.fixture
def dispatcher(demo):
    return person(demo, Role.DISPATCHER, name="desk")
