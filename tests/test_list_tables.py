"""knowledge.ingest.list_tables reads table shapes, not one manual: small tables in those shapes."""
from knowledge.ingest import list_tables as L
from knowledge.ingest.text import ManualText


def text(s: str) -> ManualText:
    return ManualText("t", s.split("\n"))


def test_count_rows_and_total_check():
    t = text("省份 市 医院数量\n广东省 广州市 12\n广东省 深圳市 8\n浙江省 杭州市 5\n北京市 北京市 20\n"
             "江苏省 南京市 3\n总计 49")
    ents, problems = L.city_table(t, 1, len(t), set())
    assert [(e.province, e.raw, e.hospital_count) for e in ents][:2] == [("广东省", "广州市", 12), ("广东省", "深圳市", 8)]
    assert problems == ["hospital counts sum to 48, 总计 says 49"]


def test_two_column_cities():
    t = text("省份/直辖市 地级市 省份/直辖市 地级市\n\n北京市 吉林省\n\n北京市 白城市\n\n上海市 白山市\n\n"
             "上海市 吉林市\n\n安徽省\n延边朝鲜族自治\n\n州\n\n合肥市")
    ents, problems = L.city_table(t, 1, len(t), set())
    got = {(e.province, e.raw) for e in ents}
    assert {("北京市", "北京市"), ("上海市", "上海市"), ("吉林省", "白城市"), ("吉林省", "延边朝鲜族自治州"),
            ("安徽省", "合肥市")} <= got
    assert problems == []


def test_province_cells_wrap_and_count():
    t = text("省份 城市 数量\n广东 广州、深圳、 3\n珠海\n浙江 杭州 1\n合计 5")
    ents, problems = L.city_table(t, 1, len(t), {"广东", "浙江"})
    assert [(e.province, e.raw, e.line) for e in ents] == [("广东", "广州", 2), ("广东", "深圳", 2), ("广东", "珠海", 3),
                                                         ("浙江", "杭州", 4)]
    assert problems == ["row counts sum to 4, 合计 says 5"]


def test_hospital_table():
    t = text("见下表\n区域 医院 地址\n北京 北京协和医院 东城区帅府园1号\n上海\n华山医院(总\n院) 上海市静安区乌鲁木齐中路12号\n"
             "3) 其他")
    hs, last = L.hospital_table(t, 1, len(t))
    assert [(h.city, h.name, h.note) for h in hs] == [
        ("北京", "北京协和医院", "地址：东城区帅府园1号"), ("上海", "华山医院(总院)", "地址：上海市静安区乌鲁木齐中路12号")]
    assert last == 6


def test_disease_list_wrapped_names():
    t = text("1-恶性肿瘤 指恶性细胞不受控制的生长。\n发病 90 日后确诊。\n2-冠状动脉\n搭桥术(或称\n冠状动脉旁路\n移植术)\n"
             "指为治疗严重的冠心病。\n2.1-急性心肌梗塞 指...")
    ds = L.disease_list(t, 1, len(t))
    assert [(d.name, d.aliases) for d in ds] == [("恶性肿瘤", []), ("冠状动脉搭桥术", ["冠状动脉旁路移植术"]),
                                                 ("急性心肌梗塞", [])]
    assert ds[0].definition == "指恶性细胞不受控制的生长。发病 90 日后确诊。"
