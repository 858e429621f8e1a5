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

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.store import accounts, organisation, stations
from routing.store.areas import District, Station, Street
from routing.store.audit import audit
from routing.store.deputies import Deputy
from routing.store.org_file import OrgFile, OrgImportError, Row, read_org_file, sheet_name
from routing.store.people import AGENCY_KINDS, Agency, Role, User
from routing.texts import DomainError

SUBJECT = "organisation_import"
# progress(step, done, total): "check", "store".
Progress = Callable[[str, int, int], None]
ROLES = {
    "管理员": Role.ADMIN, "admin": Role.ADMIN, "分拨员": Role.DISPATCHER, "dispatcher": Role.DISPATCHER,
    "承办单位": Role.AGENCY, "承办单位工作人员": Role.AGENCY, "agency": Role.AGENCY,
}
KINDS = {**{label: kind for kind, label in AGENCY_KINDS.items()}, **{kind: kind for kind in AGENCY_KINDS}}
YES = {"是", "启用", "yes", "y", "true", "1"}
NO = {"否", "停用", "no", "n", "false", "0"}
NAMES_SPLIT = re.compile(r"[、,，;；\s]+")
LIMITS = {"name": 64, "short_name": 32, "display_name": 64, "district": 32, "street": 32, "address": 200}
ORDER = ("streets", "agencies", "accounts", "stations")  # what a later sheet may name comes first


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


def active_value(value: str | None) -> bool | None:
    """是/否 (yes/no) as a bool; None for an empty or missing cell."""
    if not value:
        return None
    folded = value.casefold()
    return True if folded in YES else False if folded in NO else None


def _agency_named(session: Session, name: str) -> Agency | None:
    return session.scalar(select(Agency).where(func.lower(Agency.name) == name.lower()))


def _station_named(session: Session, name: str) -> Station | None:
    return session.scalar(select(Station).where(func.lower(Station.name) == name.lower()))


def _user_named(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


# -- checking: every row, against the system and the rest of the file ------------------------


class _Checker:
    def __init__(self, session: Session, file: OrgFile) -> None:
        self.session, self.file, self.errors = session, file, list(file.errors)
        self.districts = set(session.scalars(select(District.name)))
        self.streets = {(s.district.name, s.name) for s in session.scalars(select(Street))}
        for row in file.rows["streets"]:
            self.districts.add(row.values["district"])
            if row.values.get("street"):
                self.streets.add((row.values["district"], row.values["street"]))
        self.agencies = {n.lower() for n in session.scalars(select(Agency.name))}
        self.agencies |= {r.values["name"].lower() for r in file.rows["agencies"] if r.values["name"]}
        self.deputies: dict[str, int] = {}
        for name in session.scalars(select(Deputy.name)):
            self.deputies[name] = self.deputies.get(name, 0) + 1

    def error(self, row: Row, column: str | None, text: str) -> None:
        self.errors.append(f"{row.where(column)}：{text}")

    def value(self, row: Row, column: str) -> str:
        return "" if column in row.formulas else row.values.get(column, "")

    def common(self, row: Row, seen: dict[str, int], key: str) -> None:
        for column in row.values:
            limit = LIMITS.get(column)
            if limit and len(self.value(row, column)) > limit:
                self.error(row, column, f"超过 {limit} 个字，请缩短")
        name = self.value(row, key).lower()
        if name and name in seen:
            self.error(row, key, f"与第 {seen[name]} 行重复，请合并为一行")
        elif name:
            seen[name] = row.number

    def place(self, row: Row, required: bool) -> None:
        district, street = self.value(row, "district"), self.value(row, "street")
        if not district:
            if required and "district" not in row.formulas:
                self.error(row, "district", "为空，请填写区县")
            if street:
                self.error(row, "street", "请同时在 区县 列写明街道所在的区县")
        elif district not in self.districts:
            self.error(row, "district", f"系统中没有“{district}”：请先在 街道 表中写上它")
        elif street and (district, street) not in self.streets:
            self.error(row, "street", f"{district}没有“{street}”：请先在 街道 表中写上它")

    def required(self, row: Row, *columns: str) -> None:
        for column in columns:
            if not self.value(row, column) and column not in row.formulas:
                self.error(row, column, "为空，请填写")

    def active(self, row: Row) -> None:
        value = self.value(row, "active")
        if value and active_value(value) is None:
            self.error(row, "active", f"“{value}”应为 是 或 否")

    def check(self, progress: Progress) -> list[str]:
        total, done = len(self.file), 0
        for kind in ORDER:
            seen: dict[str, int] = {}
            for row in self.file.rows[kind]:
                getattr(self, f"check_{kind}")(row, seen)
                done += 1
                progress("check", done, total)
        return self.errors

    def check_streets(self, row: Row, seen: dict[str, int]) -> None:
        self.common(row, {}, "district")
        self.required(row, "district")

    def check_agencies(self, row: Row, seen: dict[str, int]) -> None:
        self.common(row, seen, "name")
        self.required(row, "name")
        kind = self.value(row, "kind")
        if kind and kind.casefold() not in KINDS:
            self.error(row, "kind", f"没有“{kind}”这种单位类型，应为 {'、'.join(AGENCY_KINDS.values())} 之一")
        self.place(row, required=False)
        supervisor = self.value(row, "supervisor")
        if supervisor and supervisor.lower() not in self.agencies:
            self.error(row, "supervisor", f"没有“{supervisor}”这个单位：请写在 单位 表中或改为已有的单位")
        elif supervisor and supervisor.lower() == self.value(row, "name").lower():
            self.error(row, "supervisor", "不能是本单位")

    def check_accounts(self, row: Row, seen: dict[str, int]) -> None:
        self.common(row, seen, "username")
        self.required(row, "username", "display_name", "role")
        username = self.value(row, "username")
        if username and not accounts.USERNAME.fullmatch(username):
            self.error(row, "username", f"“{username}”不行：用户名请用 2 到 64 个英文字母、数字或 . _ -")
        existing = _user_named(self.session, username) if username else None
        if existing is not None and existing.role is Role.DEPUTY:
            self.error(row, "username", f"“{username}”是人大代表的账号：请在代表管理页面修改")
        role = ROLES.get(self.value(row, "role").casefold())
        if self.value(row, "role") and role is None:
            self.error(row, "role", f"没有“{self.value(row, 'role')}”这个角色，应为 管理员、分拨员 或 承办单位")
        agency = self.value(row, "agency")
        if role is Role.AGENCY and not agency and "agency" not in row.formulas:
            self.error(row, "agency", "为空：承办单位工作人员须写明所属单位")
        elif agency and role not in (Role.AGENCY, None):
            self.error(row, "agency", "只有承办单位工作人员属于承办单位：请清空本列或把角色改为 承办单位")
        elif agency and agency.lower() not in self.agencies:
            self.error(row, "agency", f"没有“{agency}”这个单位：请写在 单位 表中或改为已有的单位")
        mobile = self.value(row, "mobile")
        if mobile and not accounts.MOBILE.fullmatch(mobile):
            self.error(row, "mobile", f"“{mobile}”不是手机号：请填 11 位数字，以 1 开头")
        im_user_id = self.value(row, "im_user_id")
        if im_user_id and not accounts.IM_USER_ID.fullmatch(im_user_id):
            self.error(row, "im_user_id", "请用 1 到 64 个英文字母、数字或 . _ - @")
        self.active(row)

    def check_stations(self, row: Row, seen: dict[str, int]) -> None:
        self.common(row, seen, "name")
        self.required(row, "name")
        self.place(row, required=True)
        for name in NAMES_SPLIT.split(self.value(row, "deputies")):
            if name and not self.deputies.get(name):
                self.error(row, "deputies", f"没有名叫“{name}”的代表：请先在代表管理页面建立")
            elif name and self.deputies[name] > 1:
                self.error(row, "deputies", f"有 {self.deputies[name]} 位代表名叫“{name}”：请在代表管理页面为联络站选定")
        self.active(row)


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
            district, created = District(name=name), True
            self.session.add(district)
            self.session.flush()
            audit(self.session, "district", district.id, "create", self.actor, self.now,
                  after={"name": name}, summary=name)
        if created:
            self.count("streets", name, True, False)
        if not street_name:
            if not created:
                self.count("streets", name, False, False)
            return
        if any(s.name == street_name for s in district.streets):
            self.count("streets", f"{name}{street_name}", False, False)
            return
        street = Street(district_id=district.id, name=street_name)
        self.session.add(street)
        self.session.flush()
        self.session.expire(district, ["streets"])
        audit(self.session, "street", street.id, "create", self.actor, self.now,
              after={"district": name, "name": street_name}, summary=f"{name}{street_name}")
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
        values, user = row.values, _user_named(self.session, row.values["username"])
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
    errors = _Checker(session, file).check(progress)
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
