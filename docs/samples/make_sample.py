"""Writes organisation.xlsx beside this script: a small city's organisation
that imports cleanly after ``flask --app admin setup`` —

    python3 docs/samples/make_sample.py
    flask --app admin import org docs/samples/organisation.xlsx

Two agencies, a district with two streets, one liaison station, a dispatcher
and an agency account. The station names no deputies: they are added on the
deputies' page (or with ``deputy add``) and then named in its 代表 column.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

SAMPLE = Path(__file__).with_name("organisation.xlsx")
SHEETS = {
    "说明": [
        ["组织架构导入样例：依次导入 街道、单位、账号、联络站 四张表；有任何错误时不导入，并列出每一处。"],
        ["再次导入同一文件不会重复建立：按名称（账号按用户名）更新。空单元格清空该项，没有的列保持原样。"],
        ["新账号的临时密码只在导入时显示一次，首次登录须修改。"],
    ],
    "街道": [
        ["区县", "街道"],
        ["青山区", "和平街道"],
        ["青山区", "滨江街道"],
    ],
    "单位": [
        ["名称", "简称", "类型", "区县", "街道", "上级督办单位"],
        ["青山区人民政府", "青山区政府", "区政府", "青山区", "", ""],
        ["青山区和平街道办事处", "和平街道", "街道办事处", "青山区", "和平街道", "青山区人民政府"],
    ],
    "账号": [
        ["用户名", "姓名", "角色", "所属单位", "手机号", "企业微信/钉钉ID", "启用"],
        ["wangfang", "王芳", "分拨员", "", "13800000001", "WangFang", "是"],
        ["lijun", "李军", "承办单位", "青山区和平街道办事处", "13800000002", "", "是"],
    ],
    "联络站": [
        ["名称", "区县", "街道", "地址", "代表", "启用"],
        ["和平街道人大代表联络站", "青山区", "和平街道", "和平路 1 号社区服务中心二楼", "", "是"],
    ],
}


def write_sample(path: Path = SAMPLE) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in SHEETS.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            # Text cells, so a mobile number stays digits rather than a number in scientific notation.
            sheet.append([str(value) for value in row])
        if title != "说明":
            for cell in sheet[1]:
                cell.font = Font(bold=True)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = 24
    workbook.save(path)
    return path


if __name__ == "__main__":
    print(write_sample())
