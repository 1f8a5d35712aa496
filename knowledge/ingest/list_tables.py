"""Readers for the lists manuals print as tables: covered cities, hospitals, diseases.

Each reader takes a ManualText and a line span (a..z, 1-based, inclusive) and knows one table
shape as PDF extraction flattens it, not one manual:

- city_table(): picks one of the three city-table shapes below by its rows and header;
  - count_rows(): rows '省 市 医院数量' and a '总计 N' row;
  - two_column_cities(): a two-column '省份 地级市 | 省份 地级市' table read line by line;
  - province_cells(): rows '省 城市、城市… 数量' whose cell wraps and whose count may sit mid-cell;
- hospital_table(): a '区域 医院 地址' table;
- disease_list(): 'N-名称 定义' entries with names wrapped in a narrow column.

Lines are read without bullet glyphs (text.unbullet). Place names in cells are split by
lexicon.split_place_cell.
"""
from __future__ import annotations

import bisect
import re
from typing import Any, Optional

from knowledge.ingest.builder import CityEntry, DiseaseEntry, HospitalEntry
from knowledge.ingest.lexicon import split_place_cell
from knowledge.ingest.text import ManualText
from knowledge.ingest.text import unbullet as norm

PROV_SUFFIX = re.compile(r"(?:壮族自治区|回族自治区|维吾尔自治区|自治区|省|市)$")
ADMIN_END = re.compile(r"(?:市|县|区|州|旗|盟|地区)$")


def is_province(tok: str) -> bool:
    return bool(re.search(r"(?:省|自治区)$", tok))


# --------------------------------------------------------------------------------------
# city tables

def count_rows(t: ManualText, a: int, z: int) -> tuple[list[CityEntry], Optional[tuple[int, int]]]:
    """Rows '省 市 医院数量'. Returns entries and (total, line) of the 总计 row."""
    entries: list[CityEntry] = []
    total = None
    for n in range(a, z + 1):
        s = norm(t.line(n))
        mt = re.fullmatch(r"(\S+?(?:省|市|自治区))\s+(\S+)\s+(\d+)", s)
        if mt:
            entries.append(CityEntry(raw=mt.group(2), line=n, hospital_count=int(mt.group(3)),
                                     province=mt.group(1)))
        mt = re.fullmatch(r"(?:总计|合计)\s*(\d+)", s)
        if mt:
            total = (int(mt.group(1)), n)
    return entries, total


def two_column_cities(t: ManualText, a: int, z: int) -> list[CityEntry]:
    """Two-column '省份 地级市 | 省份 地级市' table flattened line by line (a: first line after the header).

    Each column is a run of province headers followed by their cities. A line with two tokens
    feeds both columns. A line with one complete token belongs to the left column (its right
    cell is empty). A name wrapped inside a cell ("延边朝鲜族自治" + "州") is joined; when a
    single-token line already fed the left column in the same visual row, the wrapped name
    belongs to the right column.
    """
    cols: list[list[tuple[str, int]]] = [[], []]
    frag, frag_line, left_single = "", 0, False
    for n in range(a, z + 1):
        s = norm(t.line(n))
        if not s or s.startswith("注") or "/" in s:
            continue
        toks = s.split()
        if len(toks) == 1 and (frag or not ADMIN_END.search(toks[0]) and not PROV_SUFFIX.search(toks[0])):
            frag, frag_line = frag + toks[0], frag_line or n
            if ADMIN_END.search(frag) or PROV_SUFFIX.search(frag):
                cols[1 if left_single else 0].append((frag, frag_line))
                frag, frag_line = "", 0
            continue
        if len(toks) == 1:
            cols[0].append((toks[0], n))
            left_single = True
            continue
        left_single = False
        cols[0].append((toks[0], n))
        cols[1].append((" ".join(toks[1:]), n))
    entries: list[CityEntry] = []
    for col in cols:
        prov, last = None, None
        for tok, n in col:
            if is_province(tok):
                prov = tok
                continue
            if tok == last:
                continue  # municipality: "北京市" as province cell then as city cell
            entries.append(CityEntry(raw=tok, line=n, province=prov or tok))
            last = tok
    return entries


def province_cells(t: ManualText, a: int, z: int, provinces: set[str]) -> tuple[list[CityEntry], list[dict]]:
    """Rows '省 城市、城市…  数量' where the cell wraps and the count may sit mid-cell.

    `provinces` are the names a row may start with. Returns the entries and the rows
    ({"province", "line", "cell", "count"}; a 合计 row has province None and "total")."""
    rows_: list[dict[str, Any]] = []
    for n in range(a, z + 1):
        s = norm(t.line(n))
        if not s or s.startswith("注"):
            continue
        first = s.split()[0]
        mt_one = re.fullmatch(r"(\S{2,3})\s+(\S.*?)\s+(\d+)", s)
        if first in provinces and (s == first or mt_one and mt_one.group(1) == first):
            row: dict[str, Any] = {"province": first, "line": n, "cell": [], "count": None}
            rows_.append(row)
            if mt_one:
                row["cell"].append((mt_one.group(2), n))
                row["count"] = int(mt_one.group(3))
            continue
        if not rows_:
            continue  # header lines
        row = rows_[-1]
        if re.fullmatch(r"\d+", s):
            row["count"] = int(s)
            continue
        mt = re.fullmatch(r"(?:合计|总计)\s*(\d+)", s)
        if mt:
            rows_.append({"province": None, "total": int(mt.group(1)), "line": n, "cell": [], "count": None})
            continue
        row["cell"].append((s, n))
    entries: list[CityEntry] = []
    for row in rows_:
        if row["province"] is None:
            continue
        joined, line_of_pos = "", []
        for s, n in row["cell"]:
            if joined:
                prev = joined.rstrip()
                space_mode = "、" not in prev.split("、")[-1] and " " in prev.split("、")[-1]
                last_tok = prev.split(" ")[-1].split("、")[-1]
                if space_mode and ADMIN_END.search(last_tok) or (" " in s and "、" not in s and ADMIN_END.search(last_tok)):
                    joined += " "
            line_of_pos.append((len(joined), n))
            joined += s
        starts = [p for p, _ in line_of_pos]
        pos = 0
        for name, note in split_place_cell(joined):
            at = joined.find(name, pos)
            if at >= 0:
                pos = at + len(name)
            i = max(bisect.bisect_right(starts, max(at, 0)) - 1, 0)
            line = line_of_pos[i][1] if line_of_pos else row["line"]
            entries.append(CityEntry(raw=name, line=line, note=note, province=row["province"]))
    return entries, rows_


def city_table(t: ManualText, a: int, z: int, provinces: set[str]) -> tuple[list[CityEntry], list[str]]:
    """A city table of one of the three shapes above, from its first line a (header or rows) to z.

    At least 5 '省 市 医院数量' rows: count_rows(); a header naming its two columns twice
    ('省份 地级市 省份 地级市'): two_column_cities(); else province_cells(). Returns the
    entries and the totals that disagree with the rows, as messages."""
    problems: list[str] = []
    ents, total = count_rows(t, a, z)
    header = " ".join(norm(t.line(n)) for n in range(a, min(a + 3, z) + 1))
    two_col = re.search(r"(\S+)\s+(\S+)\s+\1\s+\2", header)
    if len(ents) >= 5:  # rows: 省 市 医院数量
        if total and sum(e.hospital_count or 0 for e in ents) != total[0]:
            problems.append(f"hospital counts sum to {sum(e.hospital_count or 0 for e in ents)}, 总计 says {total[0]}")
    elif two_col:
        ents = two_column_cities(t, a + 1, z)
    else:  # cells: 省 城市、城市… 数量
        ents, rws = province_cells(t, a, z, provinces)
        for r in rws:
            if r["province"] and r["count"] is not None:
                got = sum(1 for e in ents if e.province == r["province"] and r["line"] <= e.line)
                # informative only: the manual's count is of prefectures, the cell may list counties
                r["parsed"] = got
        tot = next((r["total"] for r in rws if r.get("total")), None)
        counts = sum(r["count"] or 0 for r in rws if r["province"])
        if tot is not None and tot != counts:
            problems.append(f"row counts sum to {counts}, 合计 says {tot}")
    return ents, problems


# --------------------------------------------------------------------------------------
# hospital and disease lists

def hospital_table(t: ManualText, a: int, z: int) -> tuple[list[HospitalEntry], int]:
    """'区域 医院 地址' table somewhere in a..z: region cells alone or leading a row, names wrapping
    when a parenthesis is left open, addresses after the name or on the next line. The table
    ends at a numbered item ('3)'). Returns the entries and the table's last line."""
    out: list[HospitalEntry] = []
    region = None
    started = False
    last = a
    for n in range(a, z + 1):
        s = norm(t.line(n))
        if not s:
            continue
        if started and not re.match(r"^\d+[）)]", s):
            last = n
        if re.fullmatch(r"区域\s+医院\s+地址", s):
            started = True
            continue
        if not started:
            continue
        if re.match(r"^\d+[）)]", s):
            break
        toks = s.split(" ", 1)
        if re.fullmatch(r"[\u4e00-\u9fff]{2,3}", toks[0]) and "院" not in toks[0]:
            region = toks[0]
            s = toks[1] if len(toks) > 1 else ""
            if not s:
                continue
        if out and out[-1].name.count("(") > out[-1].name.count(")"):
            head, _, rest = s.partition(" ")
            out[-1].name += head
            if rest:
                out[-1].note = rest
            continue
        if re.match(r"^(?:中国|\S{2,3}(?:省|市)\S*(?:区|县|路|号))", s) or re.fullmatch(r"\S{0,4}号院?", s):
            if out:
                out[-1].note = (out[-1].note or "") + s.replace(" ", "")
            continue
        name, _, addr = s.partition(" ")
        out.append(HospitalEntry(name=name, line=n, city=region, note=addr or None))
    for h in out:  # the address names the city when the region cell is a province
        mt = re.search(r"省([\u4e00-\u9fff]{2,4}?市)", h.note or "")
        if mt:
            h.province, h.city = h.city, mt.group(1)
        if h.note:
            h.note = "地址：" + h.note.replace(" ", "")
    return out, last


def disease_list(t: ManualText, a: int, z: int) -> list[DiseaseEntry]:
    """'N-名称 定义' entries; names wrap in a narrow column ('2.2-冠状动脉' / '搭桥术（或称' ...).
    Entry numbers must follow on (N, N.1, N.2, N+1): '90 日…' inside a definition is no entry."""
    out: list[DiseaseEntry] = []
    last = (0, 0)
    name_open = False
    for n in range(a, z + 1):
        s = norm(t.line(n))
        if not s:
            continue
        mt = re.match(r"^(\d{1,2})(?:\.(\d))?\s*-?\s*([\u4e00-\u9fff].*)$", s)
        if mt:
            major, minor = int(mt.group(1)), int(mt.group(2) or 0)
            ok = (major == last[0] + 1) or (major == last[0] and minor == last[1] + 1 and minor > 0)
            if ok:
                last = (major, minor)
                rest = mt.group(3)
                name, _, definition = rest.partition(" ")
                num = f"{major}.{minor}" if minor else str(major)
                out.append(DiseaseEntry(name=name, line=n, definition=definition or None, aliases=[]))
                out[-1].aliases = []
                out[-1].__dict__["number"] = num
                name_open = not definition
                continue
        if not out:
            continue
        if name_open and len(s) <= 7 and not re.search(r"[，。；]", s):
            out[-1].name += s
            continue
        name_open = False
        out[-1].definition = (out[-1].definition or "") + s
    for d in out:  # "冠状动脉搭桥术(或称冠状动脉旁路移植术)" -> alias 冠状动脉旁路移植术
        mt = re.match(r"^(.*?)\((?:或称)?(.+)\)$", d.name)
        if mt:
            d.name, d.aliases = mt.group(1), [mt.group(2)]
    return out
