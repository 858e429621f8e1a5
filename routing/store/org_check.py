"""Checking the organisation's spreadsheet (组织架构导入的检查): every row of
every sheet against the system and the rest of the file — a district a later
sheet names may come with the file's 街道 sheet, a supervisor with its 单位
sheet — every problem named with its sheet, row, column and what to do.
Nothing is written here; ``routing.store.org_import`` applies a file that
passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.store import accounts
from routing.store.areas import District, Street
from routing.store.deputies import Deputy
from routing.store.org_file import OrgFile, Row
from routing.store.people import AGENCY_KINDS, Agency, Role, User

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


def active_value(value: str | None) -> bool | None:
    """是/否 (yes/no) as a bool; None for an empty or missing cell."""
    if not value:
        return None
    folded = value.casefold()
    return True if folded in YES else False if folded in NO else None



def user_named(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))



class Checker:
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
        existing = user_named(self.session, username) if username else None
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
