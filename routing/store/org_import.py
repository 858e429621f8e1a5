"""Importing the organisation from a spreadsheet (组织架构导入): districts and
streets, agencies, staff accounts and liaison stations, read by
``routing.store.org_file``.

The standard of every import here: every bad row and column is named at
once, with what to do; nothing is imported when anything is wrong (one
transaction, rolled back); a second run of the same file changes nothing and
reports 0 new. Rows are matched by name (an account by its login), so a row
already in the system is updated through the same service functions the
console uses — their checks apply and their change log entries are written.
A cell left empty clears its field; a column left out keeps what is there.
A station's 代表 cell adds and removes deputies only when it is filled in.

New accounts get a temporary password they must change at first login; the
report carries it for the caller to show once. It is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.store import accounts, gazetteer, organisation, stations
from routing.store.areas import District, Station
from routing.store.audit import audit
from routing.store.deputies import Deputy
from routing.store.org_check import KINDS, NAMES_SPLIT, ORDER, ROLES, Checker, Progress, active_value, user_named
from routing.store.org_file import OrgFile, OrgImportError, Row, read_org_file, sheet_name
from routing.store.people import Agency, Role, User
from routing.texts import DomainError

SUBJECT = "org_import"  # config_change.subject holds 16 characters


@dataclass
class KindReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class OrgReport:
    applied: bool = False  # False: checked only, nothing kept
    kinds: dict[str, KindReport] = field(default_factory=lambda: {kind: KindReport() for kind in ORDER})
    # (login, display name, temporary password) of each new account; empty when checked only.
    passwords: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(len(k.created) for k in self.kinds.values())

    def figures(self) -> dict[str, Any]:
        return {kind: {"created": len(r.created), "updated": len(r.updated), "unchanged": r.unchanged}
                for kind, r in self.kinds.items()}

    def lines(self) -> list[str]:
        verb = "已" if self.applied else "将"
        lines = []
        for kind, r in self.kinds.items():
            line = f"{sheet_name(kind)}：{verb}新建 {len(r.created)}，{verb}更新 {len(r.updated)}，无变化 {r.unchanged}"
            names = "、".join(r.created + r.updated)
            lines.append(f"{line}（{names[:300]}）" if names else line)
        return lines

def _agency_named(session: Session, name: str) -> Agency | None:
    return session.scalar(select(Agency).where(func.lower(Agency.name) == name.lower()))


def _station_named(session: Session, name: str) -> Station | None:
    return session.scalar(select(Station).where(func.lower(Station.name) == name.lower()))


# -- applying: through the console's service functions ------------------------------------


class _Applier:
    def __init__(self, session: Session, actor: User | None, now: datetime, report: OrgReport) -> None:
        self.session, self.actor, self.now, self.report = session, actor, now, report
        self.errors: list[str] = []

    def count(self, kind: str, name: str, created: bool, changed: bool) -> None:
        entry = self.report.kinds[kind]
        if created:
            entry.created.append(name)
        elif changed:
            entry.updated.append(name)
        else:
            entry.unchanged += 1

    def district(self, name: str) -> District:
        return self.session.scalar(select(District).where(District.name == name))

    def place_ids(self, row: Row, old_district: int | None, old_street: int | None) -> tuple[int | None, int | None]:
        if "district" not in row.values:
            return old_district, old_street
        district = self.district(row.values["district"]) if row.values["district"] else None
        street_name = row.values.get("street")
        if street_name is None:
            return (district.id if district else None), old_street
        street = next((s for s in district.streets if s.name == street_name), None) if district else None
        return (district.id if district else None), (street.id if street else None)

    def streets(self, row: Row) -> None:
        name, street_name = row.values["district"], row.values.get("street", "")
        district, created = self.district(name), False
        if district is None:
            # Through the gazetteer's own function: logged, and its version moved so every process's detector sees it.
            district, created = gazetteer.save_district(self.session, name, actor=self.actor, now=self.now), True
        if created:
            self.count("streets", name, True, False)
        if not street_name:
            if not created:
                self.count("streets", name, False, False)
            return
        if any(s.name == street_name for s in district.streets):
            self.count("streets", f"{name}{street_name}", False, False)
            return
        gazetteer.save_street(self.session, district, street_name, actor=self.actor, now=self.now)
        self.session.expire(district, ["streets"])
        self.count("streets", f"{name}{street_name}", True, False)

    def agency_fields(self, row: Row, agency: Agency | None, supervisor_too: bool) -> organisation.AgencyFields:
        values = row.values
        kind = values.get("kind")
        district_id, street_id = self.place_ids(row, agency and agency.district_id, agency and agency.street_id)
        supervisor_id = agency.supervisor_id if agency else None
        if "supervisor" in values and supervisor_too:
            supervisor = _agency_named(self.session, values["supervisor"]) if values["supervisor"] else None
            supervisor_id = supervisor.id if supervisor else None
        return organisation.AgencyFields(
            name=values["name"],
            short_name=values.get("short_name", agency.short_name if agency else None),
            kind=KINDS[kind.casefold()] if kind else (None if kind == "" else agency.kind if agency else None),
            district_id=district_id, street_id=street_id, supervisor_id=supervisor_id,
        )

    def agencies(self, rows: list[Row]) -> None:
        created = set()
        for row in rows:  # first the new ones, so that supervisors named further down exist
            if _agency_named(self.session, row.values["name"]) is None:
                new = organisation.create_agency(self.session, self.agency_fields(row, None, True), self.actor, self.now)
                created.add(new.id)
        for row in rows:
            agency = _agency_named(self.session, row.values["name"])
            changed = organisation.edit_agency(self.session, agency, self.agency_fields(row, agency, True),
                                               self.actor, self.now)
            self.count("agencies", agency.name, agency.id in created, changed)

    def accounts(self, row: Row) -> None:
        values, user = row.values, user_named(self.session, row.values["username"])
        agency = _agency_named(self.session, values["agency"]) if values.get("agency") else None
        keep = user is not None and "agency" not in values and ROLES[values["role"].casefold()] is Role.AGENCY
        fields = accounts.AccountFields(
            username=values["username"], display_name=values["display_name"], role=ROLES[values["role"].casefold()],
            agency_id=user.agency_id if keep else (agency.id if agency else None),
            mobile=values.get("mobile", user.mobile if user else None),
            im_user_id=values.get("im_user_id", user.im_user_id if user else None),
        )
        if user is None:
            user, password = accounts.create_account(self.session, fields, self.actor, self.now)
            self.report.passwords.append((user.username, user.display_name, password))
            before = None
        else:
            before = accounts.account_record(user)
            accounts.edit_account(self.session, user, fields, self.actor, self.now)
        active = active_value(values.get("active"))
        if active is not None and active != user.active:
            (accounts.activate if active else accounts.deactivate)(self.session, user, self.actor, self.now)
        self.session.flush()
        self.count("accounts", user.username, before is None, before != accounts.account_record(user))

    def stations(self, row: Row) -> None:
        values, station = row.values, _station_named(self.session, row.values["name"])
        district_id, street_id = self.place_ids(row, None, station.street_id if station else None)
        fields = stations.StationFields(
            name=values["name"], district_id=district_id, street_id=street_id,
            address=values.get("address", station.address if station else ""),
        )
        created = station is None
        if created:
            station = stations.create_station(self.session, fields, self.actor, self.now)
            changed = True
        else:
            changed = stations.edit_station(self.session, station, fields, self.actor, self.now)
        names = [n for n in NAMES_SPLIT.split(values.get("deputies", "")) if n]
        if names:
            chosen = list(self.session.scalars(select(Deputy).where(Deputy.name.in_(names))))
            changed = stations.set_station_deputies(self.session, station, chosen, self.actor, self.now) or changed
        active = active_value(values.get("active"))
        if active is not None and active != station.active:
            stations.set_station_active(self.session, station, active, self.actor, self.now)
            changed = True
        self.count("stations", station.name, created, changed)

    def apply(self, file: OrgFile, progress: Progress) -> list[str]:
        total, done = len(file), 0
        for kind in ORDER:
            rows = file.rows[kind]
            batches = [rows] if kind == "agencies" else [[row] for row in rows]
            for batch in batches:
                try:
                    getattr(self, kind)(batch if kind == "agencies" else batch[0])
                except DomainError as exc:
                    # Checked before, so rare (a supervisor loop, a login taken but for its case): named, and
                    # the run stops — the rows after it may depend on it.
                    self.errors.append(f"{batch[0].where()}：{exc}")
                    return self.errors
                done += len(batch)
                progress("store", done, total)
        return self.errors


# -- the import ----------------------------------------------------------------------


def import_org(
    session: Session, path: str | Path, actor: User | None, now: datetime, *, name: str | None = None,
    check_only: bool = False, progress: Progress = lambda *_: None,
) -> OrgReport:
    """Check the file and import it in one transaction: committed, or rolled
    back with ``OrgImportError`` naming every problem. ``check_only``: carried
    out and rolled back, so the report says what would change."""
    file = read_org_file(path, name)
    errors = Checker(session, file).check(progress)
    if errors:
        raise OrgImportError(f"{name or Path(path).name} 有 {len(errors)} 处问题，未导入任何内容", errors)
    report = OrgReport(applied=not check_only)
    try:
        errors = _Applier(session, actor, now, report).apply(file, progress)
    except BaseException:
        session.rollback()
        raise
    if errors or check_only:
        session.rollback()
        if errors:
            raise OrgImportError(f"{name or Path(path).name} 有问题，未导入任何内容", errors)
        report.passwords.clear()  # made for the trial only; never shown
        return report
    audit(session, SUBJECT, None, "import", actor, now, after=report.figures(),
          summary=f"导入 {name or Path(path).name}：新建 {report.new}")
    session.commit()
    return report
