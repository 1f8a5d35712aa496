"""channels.render: table-driven cases per channel (pure functions, no servers)."""
from __future__ import annotations

import pytest

from channels import render
from channels.render import Option, collect, speakable, split_text, utf8_len

CITE = "《平安健康保险 服务手册》·就医陪诊（第 221-398 行）"


def answer_msgs(kind="info", text="说明", items=(), options=(), sources=(CITE,), with_text=True):
    out = [{"text": text}] if with_text else []
    out.append({"custom": {"answer": {"kind": kind, "text": text, "items": list(items), "options": list(options),
                                      "sources": [{"cite": c, "line_start": 1} for c in sources]}}})
    return out


# ------------------------------------------------------------------ collect

@pytest.mark.parametrize("messages,texts,kinds,options,items", [
    ([], [], [], [], []),
    ([{"text": "你好"}], ["你好"], [], [], []),
    # text + custom of the same utterance merge into one block
    (answer_msgs(items=["北京", "上海"]), ["说明"], ["info"], [], [["北京", "上海"]]),
    # custom without a preceding text
    (answer_msgs(with_text=False), ["说明"], ["info"], [], [[]]),
    # buttons and answer options: the same payload shows once
    ([{"text": "选一个", "buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}]},
      {"custom": {"answer": {"kind": "menu", "options": [{"title": "A", "payload": "/a"}]}}}],
     ["选一个"], ["menu"], [Option("A", "/a"), Option("B", "/b")], [[]]),
    # dict items, garbage tolerated
    (answer_msgs(items=[{"name": "协和医院", "city": "北京"}, {"name": "北京医院", "city": "北京"}, 3, None, {"x": 1}]),
     ["说明"], ["info"], [], [["协和医院（北京）", "北京医院"]]),
    ([None, "text", {"text": None}, {"custom": "x"}, {"custom": {"answer": "x"}}], [], [], [], []),
    ([{"text": "第一句"}, {"text": "第二句"}], ["第一句", "第二句"], [], [], [[], []]),
])
def test_collect(messages, texts, kinds, options, items):
    ans = collect(messages)
    assert [b.text for b in ans.blocks if b.text] == texts
    assert ans.kinds == kinds
    assert ans.options == options
    if items:
        assert [b.items for b in ans.blocks] == items


# ------------------------------------------------------------------ WeChat

@pytest.mark.parametrize("messages,expected_lines", [
    ([{"text": "你好"}], ["你好"]),
    (answer_msgs(text="就医陪诊覆盖北京。"), ["就医陪诊覆盖北京。", "", f"来源：{CITE}"]),
    (answer_msgs(text="覆盖医院：", items=["北京高博医院", "上海高博肿瘤医院"], sources=()),
     ["覆盖医院：", "· 北京高博医院", "· 上海高博肿瘤医院"]),
    ([{"text": "您想了解：", "buttons": [{"title": "就医陪诊", "payload": "/x"}, {"title": "住院垫付", "payload": "/y"}]}],
     ["您想了解：", "", "回复数字选择：", "1. 就医陪诊", "2. 住院垫付"]),
])
def test_wechat_text(messages, expected_lines):
    assert render.wechat_text(collect(messages)).split("\n") == expected_lines


def test_wechat_long_list_is_cut_with_a_count():
    items = [f"医院{i}" for i in range(45)]
    text = render.wechat_text(collect(answer_msgs(text="名单：", items=items, sources=())))
    assert "· 医院29" in text and "医院30" not in text
    assert "共 45 项，以上是前 30 项" in text


@pytest.mark.parametrize("text,limit,expect_parts", [
    ("短消息。", 2048, 1),
    ("一二三。四五六。七八九。", 12, 3),              # 12 bytes = one 4-char sentence
    ("甲" * 100, 30, 10),                              # no boundary at all: cut by characters
    ("第一段。\n\n第二段。", 15, 2),                    # paragraphs first
])
def test_split_text(text, limit, expect_parts):
    parts = split_text(text, limit)
    assert len(parts) == expect_parts
    assert all(utf8_len(p) <= limit for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_split_prefers_sentence_ends():
    sentence = "这是用来测试的一句完整的话。"
    parts = split_text(sentence * 200, 2048)
    assert len(parts) > 1 and all(p.endswith("。") for p in parts)


# ------------------------------------------------------------------ widget

def test_widget_render():
    msgs = answer_msgs(text="覆盖以下医院：", items=["北京高博医院"], options=[{"title": "怎么申请", "payload": "/apply"}])
    out = render.widget(collect(msgs))
    assert out == {"messages": [{"text": "覆盖以下医院：", "kind": "info", "items": ["北京高博医院"], "sources": [CITE]}],
                   "options": [{"title": "怎么申请", "payload": "/apply"}]}
    assert render.widget(collect([])) == {"messages": [], "options": []}


# ------------------------------------------------------------------ IVR

@pytest.mark.parametrize("text,expected", [
    ("客服热线 95511。", "客服热线 九五五一一。"),
    ("请拨打95511-7", "请拨打九五五一一转七。"),
    ("热线：400-820-8820", "热线：四零零，八二零，八八二零。"),
    ("热线 4008208820", "热线 四零零八二零八八二零。"),
    ("手机 13812345678", "手机 一三八一二三四五六七八。"),
    ("请拨打 12320", "请拨打 一二三二零。"),
    ("共有 12345 家医院", "共有 12345 家医院。"),            # a count is not a phone number
    ("**重要**：请看 [说明](https://example.com/a)", "重要：请看 说明。"),
    ("详见 https://example.com/page 。", "详见。"),
    ("您好😀！欢迎🎉", "您好。欢迎。"),
    ("# 标题\n- 第一项\n- 第二项", "标题。第一项。第二项。"),
    ("| 城市 | 医院 |\n|---|---|\n| 北京 | 协和 |", "城市，医院。北京，协和。"),
    ("1)登录 APP→选择服务", "登录 APP，选择服务。"),
    ("每人 1 次/年；不可累计", "每人 1 次每年。不可累计。"),
    ("全国客服电话 95511-7（7*24 小时）", "全国客服电话 九五五一一转七，7乘24 小时。"),
    ("", ""),
])
def test_speakable(text, expected):
    assert speakable(text) == expected


def test_speakable_keeps_sentences_short():
    long = "，".join(["这是一个相当长的从句"] * 12) + "。"
    out = speakable(long)
    assert all(len(s) <= 50 for s in out.split("。"))


@pytest.mark.parametrize("n_items,summarised", [(0, False), (3, False), (4, True), (21, True)])
def test_ivr_lists(n_items, summarised):
    items = [f"第{i}人民医院" for i in range(1, n_items + 1)]
    msgs = answer_msgs(text="可以去这些医院。", items=items, sources=())
    msgs[-1]["custom"]["answer"]["unit"] = "家"
    speech = render.ivr(collect(msgs))
    if summarised:
        assert f"共 {n_items} 家，例如第1人民医院、第2人民医院、第3人民医院等。" in speech.speak
        assert "请按八" in speech.speak and speech.sms_text.count("人民医院") == n_items
        assert speech.options[-1]["digit"] == "8"
    else:
        assert speech.sms_text is None and "请按八" not in speech.speak
        assert all(i in speech.speak for i in items)


def test_ivr_options_become_digits():
    msgs = [{"text": "您想了解：", "buttons": [{"title": f"选项{i}", "payload": f"/p{i}"} for i in range(1, 10)]}]
    speech = render.ivr(collect(msgs))
    assert [o["digit"] for o in speech.options] == [str(i) for i in range(1, 8)]  # 8, 9, 0 stay reserved
    assert "选项1请按一。" in speech.speak and "选项7请按七。" in speech.speak and "选项8" not in speech.speak


# ------------------------------------------------------------------ the actions' real output shape

def rest_messages(dispatcher_messages: list[dict]) -> list[dict]:
    """What Rasa's REST channel returns for the actions' utter_message calls (text+buttons, then custom)."""
    out = []
    for m in dispatcher_messages:
        if m.get("text"):
            out.append({"text": m["text"], **({"buttons": m["buttons"]} if m.get("buttons") else {})})
        if m.get("custom"):
            out.append({"custom": m["custom"]})
    return out


def test_actions_answer_shape_renders_once_with_sources_as_lines():
    common = pytest.importorskip("actions.common")
    from rasa_sdk.executor import CollectingDispatcher

    d = CollectingDispatcher()
    src = {"cite": CITE, "manual_id": "000", "line_start": 221, "line_end": 398}
    common.Answer("clarify", "抱歉，我没太明白。您是想：", items=["有哪些服务", "转人工"],
                  options=[("有哪些服务", "/ask_services"), ("转人工", "/human_handoff")], sources=[src]).send(d)
    ans = collect(rest_messages(d.messages))
    assert [b.text for b in ans.blocks] == ["抱歉，我没太明白。您是想："]   # one block, citation not in the text
    assert ans.blocks[0].sources == [CITE] and ans.blocks[0].items == []
    assert ans.options == [Option("有哪些服务", "/ask_services"), Option("转人工", "/human_handoff")]
    assert ans.is_(render.MISUNDERSTOOD_KINDS)
    text = render.wechat_text(ans)
    assert text.count("来源") == 1 and text.count("有哪些服务") == 1


def test_ivr_does_not_repeat_the_agent_option_and_reads_item_values():
    msgs = answer_msgs(text="平安健康保险全国客服电话 95511-7。",
                       items=[{"kind": "hours", "label": "门诊协助服务时间", "value": "工作日 9:00-21:00"}], sources=())
    msgs[0]["buttons"] = [{"title": "转人工", "payload": "/human_handoff"}]
    msgs[-1]["custom"]["answer"]["options"] = [{"title": "转人工", "payload": "/human_handoff"}]
    speech = render.ivr(collect(msgs))
    assert "转人工请按一" not in speech.speak and not any(o["payload"] == "/human_handoff" for o in speech.options)
    assert "门诊协助服务时间：工作日 9:00-21:00" in speech.speak
