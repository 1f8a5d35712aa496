"""knowledge.geo: place names -> prefecture-level divisions, checked against the manuals' city tables."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from knowledge import geo

MANUALS = Path(__file__).resolve().parents[1] / "knowledge" / "manuals"


def manual_lines(prefix: str) -> list[str]:
    (path,) = MANUALS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8").splitlines()


def res(text, hint=None):
    return geo.resolve_city(text, province_hint=hint)


# --- table-driven examples ------------------------------------------------------------
# (text, province_hint, status, official name of the expected city or None, via)
OK_CASES = [
    # full / short / spaces / full-width
    ("合肥", None, "合肥市", "short"),
    ("合肥市", None, "合肥市", "exact"),
    (" 合 肥 ", None, "合肥市", "short"),
    ("合肥\u3000市", None, "合肥市", "exact"),
    ("（合肥市）", None, "合肥市", "exact"),
    # province + city
    ("安徽合肥", None, "合肥市", "short"),
    ("安徽省合肥市", None, "合肥市", "exact"),
    ("江苏省苏州市", None, "苏州市", "exact"),
    ("苏州昆山", None, "苏州市", "short"),
    ("上海市浦东新区", None, "上海市", "county"),
    ("北京市朝阳区", None, "北京市", "county"),
    ("合肥市区", None, "合肥市", "exact"),
    # municipalities are their own prefecture-level entry
    ("北京", None, "北京市", "short"),
    ("重庆市", None, "重庆市", "exact"),
    ("天津", None, "天津市", "short"),
    # county-level cities and districts -> prefecture
    ("昆山", None, "苏州市", "county"),
    ("昆山市", None, "苏州市", "county"),
    ("库尔勒", None, "巴音郭楞蒙古自治州", "county"),
    ("浦东", None, "上海市", "county"),
    ("义乌", None, "金华市", "county"),
    ("张家港市", None, "苏州市", "county"),
    ("阿城市", None, "哈尔滨市", "county"),          # manual 000 line 4178: now 阿城区
    ("长阳土家族自治县（长阳县）", None, "宜昌市", "county"),  # manual 000 line 4193
    ("巴音郭楞（库尔勒市）", None, "巴音郭楞蒙古自治州", "short"),  # manual 000 line 4261
    # autonomous prefectures, 地区 and 盟 by short form
    ("延边", None, "延边朝鲜族自治州", "short"),
    ("恩施", None, "恩施土家族苗族自治州", "short"),
    ("恩施州", None, "恩施土家族苗族自治州", "short"),
    ("阿克苏", None, "阿克苏地区", "short"),
    ("大理", None, "大理白族自治州", "short"),
    ("巴州", None, "巴音郭楞蒙古自治州", "short"),
    ("文山州", None, "文山壮族苗族自治州", "short"),       # manual 002 line 582
    ("克孜勒苏柯尔克孜州", None, "克孜勒苏柯尔克孜自治州", "short"),  # manual 002 line 713
    ("锡林郭勒", None, "锡林郭勒盟", "short"),
    ("铜仁地区", None, "铜仁市", "short"),
    # province-administered county-level units are their own entry
    ("仙桃", None, "仙桃市", "short"),
    ("济源", None, "济源市", "short"),
    # a county-level name equal to a prefecture short name prefers the prefecture
    ("朝阳", None, "朝阳市", "short"),
    ("开封县", None, "开封市", "short"),
    # ... unless the province hint says otherwise
    ("朝阳", "北京", "北京市", "county"),
    ("朝阳区", "吉林省", "长春市", "county"),
    ("东港", "辽宁", "丹东市", "county"),
    ("东港", "山东省", "日照市", "county"),
    ("昌江县", "海南", "昌江黎族自治县", "county"),
    ("江城", "云南", "普洱市", "county"),
    ("海南", "青海", "海南藏族自治州", "short"),      # manual 000 line 4663, in the 青海 row
    ("榕城", "广东", "揭阳市", "county"),
    # historical renames: jionlp change table, then the alias table
    ("襄樊", None, "襄阳市", "rename"),
    ("襄樊市", None, "襄阳市", "rename"),
    ("江干区", None, "杭州市", "rename"),
    ("思茅", None, "普洱市", "rename"),
    ("蓟县", None, "天津市", "rename"),
    ("郫县", None, "成都市", "rename"),
    # nicknames
    ("魔都", None, "上海市", "nickname"),
    ("帝都", None, "北京市", "nickname"),
    ("羊城", None, "广州市", "nickname"),
    ("鹏城", None, "深圳市", "nickname"),
    ("蓉城", None, "成都市", "nickname"),
    ("春城", None, "昆明市", "nickname"),
    ("泉城", None, "济南市", "nickname"),
    ("冰城", None, "哈尔滨市", "nickname"),
    ("山城", None, "重庆市", "nickname"),
    ("江城", None, "武汉市", "nickname"),
    ("星城", None, "长沙市", "nickname"),
    ("榕城", None, "福州市", "nickname"),
    ("鹭岛", None, "厦门市", "nickname"),
    # typos seen in the manuals
    ("毫州", None, "亳州市", "typo"),
    ("临利县", None, "荆州市", "typo"),
    ("邓煌市", None, "酒泉市", "typo"),
    # colloquial
    ("吉林", None, "吉林市", "alias"),
    ("乌市", None, "乌鲁木齐市", "alias"),
    # full pinyin naming one city
    ("shenzhen", None, "深圳市", "pinyin"),
    ("Shen Zhen", None, "深圳市", "pinyin"),
]


@pytest.mark.parametrize("text,hint,name,via", OK_CASES)
def test_resolves_ok(text, hint, name, via):
    r = res(text, hint)
    assert r.status == "ok", r
    assert r.city is not None and r.city.name == name
    assert r.candidates == [r.city]
    assert r.via == via
    assert re.fullmatch(r"\d{6}", r.city.code)


AMBIGUOUS_CASES = [
    ("SZ", None, {"深圳市", "苏州市"}),
    ("sz", None, {"深圳市", "苏州市"}),
    ("ＳＺ", None, {"深圳市", "苏州市"}),
    ("BJ", None, {"北京市"}),
    ("SH", None, {"上海市"}),
    ("GZ", None, {"广州市", "赣州市"}),
    ("suzhou", None, {"苏州市", "宿州市"}),
    ("东港", None, {"丹东市", "日照市"}),   # manual 000 line 4349 (辽宁's list)
    ("江北", None, {"重庆市", "宁波市"}),   # manual 000 line 4296 (重庆's list)
    ("通州", None, {"北京市", "南通市"}),
    ("新竹", None, {"新竹市", "新竹县"}),
    ("连江", None, {"福州市", "连江县"}),
]


@pytest.mark.parametrize("text,hint,must_include", AMBIGUOUS_CASES)
def test_ambiguous_never_guesses(text, hint, must_include):
    r = res(text, hint)
    assert r.status == "ambiguous", r
    assert r.city is None
    assert len(r.candidates) >= 2 or text.isascii()
    assert must_include <= {c.name for c in r.candidates}


def test_latin_initials_ambiguous_even_with_one_candidate():
    # "BJ" names 北京, 毕节 and 宝鸡; even a unique set of initials is not a guess
    r = res("BJ")
    assert r.status == "ambiguous" and {"北京市", "毕节市", "宝鸡市"} <= {c.name for c in r.candidates}


UNKNOWN_CASES = ["", "   ", "合", "京", "😀", "😀😀", "火星", "x" * 10_000, "合肥" * 5_000,
                 "abc", "12345", "北京协和医院", "吉林大学", "!!!", "\x00\x01", "省", "市"]


@pytest.mark.parametrize("text", UNKNOWN_CASES)
def test_unknown_and_garbage(text):
    r = res(text)
    assert r.status == "unknown"
    assert r.city is None and r.candidates == []
    assert len(r.query) <= 200


@pytest.mark.parametrize("text", ["安徽", "安徽省", "广西壮族自治区", "宁夏省"])
def test_province_alone_is_not_a_city(text):
    r = res(text)
    assert r.status == "unknown" and r.via == "province"


def test_non_string_input():
    assert geo.resolve_city(None).status == "unknown"  # type: ignore[arg-type]
    assert geo.find_cities(None) == []  # type: ignore[arg-type]


def test_bad_province_hint_is_ignored():
    assert res("合肥", "火星").city.name == "合肥市"
    assert res("合肥", "").city.name == "合肥市"
    # a hint that contradicts a unique name does not hide it
    assert res("合肥", "江苏").city.name == "合肥市"


def test_codes_are_prefecture_level():
    assert res("苏州").city == geo.City("320500", "苏州市", "苏州", "江苏省")
    assert res("北京").city.code == "110000"
    assert res("延边").city.code == "222400"
    assert res("库尔勒").city.code == "652800"
    assert res("仙桃").city.code == "429004"


# --- the manuals' city tables ---------------------------------------------------------
def _section(lines: list[str], start: str, end: str) -> list[tuple[int, str]]:
    s = next(i for i, line in enumerate(lines) if line.strip().startswith(start))
    e = next(i for i in range(s + 1, len(lines)) if lines[i].strip().startswith(end))
    return [(i + 1, lines[i]) for i in range(s + 1, e)]


_ROW = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\d+)\s*$")


@pytest.mark.parametrize("start,end", [
    ("1.门诊协助服务覆盖城市清单", "注：以上门诊协助服务覆盖城市清单"),
    ("4.住院协助服务覆盖城市清单", "注：以上住院协助服务覆盖城市清单"),
])
def test_manual_000_appendix_rows(start, end):
    """Rows '省 市 医院数量' of manual 000's appendix tables all resolve, in their province."""
    rows = [(n, m.group(1), m.group(2)) for n, line in _section(manual_lines("000"), start, end)
            if (m := _ROW.match(line))]
    assert len(rows) > 250
    bad = []
    for n, prov, city in rows:
        r = res(city, prov)
        if r.status != "ok" or r.city.province != prov:
            bad.append((n, prov, city, r.status, r.city))
    assert bad == []
    # rows name each prefecture once; extra rows for one prefecture are its county-level
    # cities (玉门市 -> 酒泉市, 横州市 -> 南宁市), resolved as such
    prefectures = [res(c, p) for _n, p, c in rows if res(c, p).via != "county"]
    assert len({r.city.code for r in prefectures}) == len(prefectures)
    assert res("玉门市", "甘肃省").city.name == "酒泉市"


def test_manual_003_annex_two_has_241_cities():
    """附件二 of manual 003 says 全国共计 241 个城市: 241 rows, 241 distinct prefectures."""
    lines = manual_lines("003")
    s = next(i for i, line in enumerate(lines) if line.startswith("附件二：服务城市范围"))
    pairs = []
    for line in lines[s + 1:]:
        cells = line.split("\t")
        if not line.strip() or cells[0] == "序号":
            continue
        if not cells[0].strip().isdigit():
            break
        for k in range(0, len(cells) - 2, 3):
            if cells[k].strip().isdigit():
                pairs.append((cells[k + 1].strip(), cells[k + 2].strip()))
    assert len(pairs) == 241
    codes = set()
    for prov, city in pairs:
        r = res(city, prov)
        assert r.status == "ok" and r.city.province == prov, (prov, city, r)
        codes.add(r.city.code)
    # 莱芜市 (merged into 济南 in 2019) is listed next to 济南市: 240 distinct prefectures
    assert len(codes) == 240
    assert res("莱芜市", "山东省").city.name == "济南市"


def test_manual_003_advance_payment_83_cities():
    """医疗垫付 '覆盖全国 83 个城市 ... 83 个城市包括：' lists 83 names, all resolvable."""
    text = "\n".join(manual_lines("003"))
    i = text.index("83 个城市包括：") + len("83 个城市包括：")
    j = text.index("4、如何申请医疗垫付服务", i)
    names = [x.strip() for x in re.split(r"[、。\n]", text[i:j]) if x.strip()]
    assert len(names) == 83
    cities = [res(n) for n in names]
    assert all(r.status == "ok" for r in cities), [n for n, r in zip(names, cities) if r.status != "ok"]
    assert len({r.city.code for r in cities}) == 83


def test_manual_002_escort_city_table():
    """附表 2 of manual 002 (4 tab columns: 省份 城市 省份 城市): every city cell resolves."""
    lines = manual_lines("002")
    rows = _section(lines, "附表 2：就医陪诊覆盖城市列表", "备注")
    current = {0: None, 2: None}
    checked, bad = 0, []
    for n, line in rows:
        cells = [c.strip() for c in line.split("\t")]
        for k, cell in enumerate(cells):
            if not cell or cell in ("省份", "城市", "直辖县"):
                continue
            r = res(cell)
            if r.via == "province":
                current[k - k % 2] = cell
                continue
            checked += 1
            hinted = res(cell, current.get(k - k % 2))
            if hinted.status != "ok":
                bad.append((n, cell, hinted.status))
    assert checked > 350
    assert bad == []


# Names from manual 000's 、-separated lists (住院陪护 / 探视 appendices), with the line they
# are on, the province heading they sit under and the prefecture they belong to.
MANUAL_000_LIST_NAMES = [
    (4109, "毫州", "安徽", "亳州市"),
    (4148, "济源", "河南", "济源市"),
    (4178, "呼兰县", "黑龙江", "哈尔滨市"),
    (4185, "襄樊", "湖北", "襄阳市"),
    (4185, "丹江口市", "湖北", "十堰市"),
    (4201, "郧县", "湖北", "十堰市"),
    (4234, "公主岭", "吉林", "长春市"),
    (4234, "吉林", "吉林", "吉林市"),
    (4242, "太仆寺旗", "内蒙古", "锡林郭勒盟"),
    (4242, "阿拉善左旗", "内蒙古", "阿拉善盟"),
    (4255, "蓟县", "天津", "天津市"),
    (4255, "静海县", "天津", "天津市"),
    (4259, "阿拉山口", "新疆", "博尔塔拉蒙古自治州"),
    (4261, "五家渠市", "新疆", "五家渠市"),
    (4272, "西双版纳", "云南", "西双版纳傣族自治州"),
    (4286, "富阳市", "浙江", "杭州市"),
    (4296, "江北", "重庆", "重庆市"),
    (4298, "万盛", "重庆", "重庆市"),
    (4349, "东港", "辽宁", "丹东市"),
    (4349, "海城", "辽宁", "鞍山市"),
    (4506, "唐海县", "河北", "唐山市"),
    (4566, "临利县", "湖北", "荆州市"),
    (4625, "通州市", "江苏", "南通市"),
    (4631, "江浦县", "江苏", "南京市"),
    (4637, "泰县", "江苏", "泰州市"),
    (4658, "兴安", "内蒙古", "兴安盟"),
    (4696, "郫县", "四川", "成都市"),
    (4710, "达县", "四川", "达州市"),
    (4724, "安县", "四川", "绵阳市"),
    (4730, "阿里", "西藏", "阿里地区"),
]


@pytest.mark.parametrize("line,name,prov,expected", MANUAL_000_LIST_NAMES)
def test_manual_000_list_names(line, name, prov, expected):
    lines = manual_lines("000")
    assert name in lines[line - 1].replace(" ", ""), f"{name} not on manual 000 line {line}"
    r = res(name, prov)
    assert r.status == "ok" and r.city.name == expected, r


# --- alias table ----------------------------------------------------------------------
def _alias_entries():
    return yaml.safe_load(geo.ALIASES_PATH.read_text(encoding="utf-8"))["aliases"]


def test_alias_table_applies_cleanly():
    assert geo.alias_problems() == []
    for e in _alias_entries():
        assert e["kind"] in ("nickname", "typo", "colloquial", "abbreviation", "rename", "county_rename")
        assert e["why"].strip()
        r = res(e["alias"], e.get("province"))
        assert r.status == "ok", e


def test_alias_citations_point_at_the_manual_text():
    """An entry that says 'manual NNN line(s) L' must find its alias on those lines."""
    cited = 0
    for e in _alias_entries():
        m = re.search(r"manual (\d{3}) lines? ([\d ,and]+)", e["why"])
        if not m:
            assert e["kind"] != "typo", f"typo without a manual citation: {e}"
            continue
        lines = manual_lines(m.group(1))
        for n in re.findall(r"\d+", m.group(2)):
            assert e["alias"] in lines[int(n) - 1].replace(" ", ""), (e, n)
            cited += 1
    assert cited >= 15


# --- find_cities / all_city_names -----------------------------------------------------
def _found(text):
    return [(text[a:b], r.status, r.city.name if r.city else None) for a, b, r in geo.find_cities(text)]


def test_find_cities_examples():
    assert _found("我在魔都，下个月去杭州看病") == [("魔都", "ok", "上海市"), ("杭州", "ok", "杭州市")]
    assert _found("我在安徽省合肥市蜀山区住院") == [("安徽省合肥市蜀山区", "ok", "合肥市")]
    assert _found("老家云南江城") == [("云南江城", "ok", "普洱市")]
    assert _found("想从昆山转到上海瑞金医院") == [("昆山", "ok", "苏州市"), ("上海", "ok", "上海市")]
    assert _found("我在SZ还是shenzhen") == [("shenzhen", "ok", "深圳市")]
    assert _found("东港那边") == []            # ambiguous county-level names are left out of free text
    assert _found("在新竹") == [("新竹", "ambiguous", None)]


def test_find_cities_skips_look_alikes():
    assert _found("买了三明治，去合作医院，药已开封，长治久安，大同小异") == []
    assert _found("来宾市的合作市和东方市") == [
        ("来宾市", "ok", "来宾市"), ("合作市", "ok", "甘南藏族自治州"), ("东方市", "ok", "东方市")]
    assert _found("中山大学附属医院") == []


def test_find_cities_spans_and_garbage():
    text = "😀北京\u3000上海ＳＨＡＮＧＨＡＩ" + "啊" * 5000 + "广州"
    found = geo.find_cities(text)
    assert [text[a:b] for a, b, _ in found] == ["北京", "上海", "ＳＨＡＮＧＨＡＩ", "广州"]
    assert geo.find_cities("") == [] and geo.find_cities("火星上没有医院") == []


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_never_crashes(text):
    r = geo.resolve_city(text, province_hint=text[:3])
    assert r.status in ("ok", "ambiguous", "unknown")
    assert (r.status == "ok") == (r.city is not None)
    for a, b, m in geo.find_cities(text):
        assert 0 <= a < b <= len(text) and m.status in ("ok", "ambiguous")


def test_all_city_names():
    names = geo.all_city_names()
    assert len(names) > 3000
    assert names["合肥"] == names["合肥市"] == "340100"
    assert names["昆山"] == "320500" and names["魔都"] == "310000" and names["毫州"] == "341600"
    assert "东港" not in names and "新竹" not in names and "sz" not in names
    assert all(re.fullmatch(r"\d{6}", v) for v in names.values())


def test_lookup_is_fast_after_build():
    geo.resolve_city("合肥")
    t = time.perf_counter()
    for i in range(20_000):
        geo.resolve_city(("合肥", "昆山", "魔都", "SZ", "火星")[i % 5])
    assert time.perf_counter() - t < 2.0


def test_province_name_exact_only():
    assert geo.province_name("四川省") == "四川省"
    assert geo.province_name("四川") == "四川省"
    assert geo.province_name("成都") is None
    assert geo.province_name("") is None


@pytest.mark.parametrize("text, county", [
    ("崇州市", True), ("崇州", True), ("宜城市", True), ("浦东", True), ("郫县", True), ("邓煌市", True),
    ("江干区", True), ("成都", False), ("襄樊市", False), ("仙桃市", False), ("伊犁", False), ("恩施", False),
    ("四川省", False), ("火星", False), ("", False), ("四川省成都市崇州市", True), ("成都崇州", True),
    ("四川成都", False), ("苏州市区", False), ("上海市浦东新区", True)])
def test_is_county_level(text, county):
    assert geo.is_county_level(text) is county


def test_former_county_only_with_its_province():
    """双桥 is 承德's district today; 重庆's 双桥区 (merged 2011) is picked only with a 重庆 hint."""
    assert geo.resolve_city("双桥").city.name == "承德市"
    assert geo.resolve_city("双桥", province_hint="重庆").city.name == "重庆市"
    assert geo.is_county_level("双桥")
