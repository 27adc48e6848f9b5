"""Mechanisms of Chinese matching, each on its own (the labelled and fresh sets measure the
whole): same-sound IME slips, traditional characters, numbers and clock times in words,
negation without commas, questions, and English words inside a Chinese message."""

from __future__ import annotations

import pytest


def concepts(triager, text: str) -> dict[str, dict[str, bool]]:
    parse = triager.parse(text, "zh")
    return {
        m.concept: {k: getattr(m, k) for k in ("negated", "family", "hypothetical", "historical")}
        for m in parse.symptoms
    }


def level(triager, text: str) -> str:
    return triager.assess(text)[1].level


def test_a_same_sound_slip_still_finds_the_concept(triager):
    assert "seizure" in concepts(triager, "刚才手脚抽出了一下")  # 抽出 typed for 抽搐


def test_a_slip_must_sit_next_to_its_phrase(triager):
    # 最 sounds like 嘴 (嘴不听使唤, trouble speaking) but is part of 最近, far from the rest
    assert "speech_trouble" not in concepts(triager, "最近手不听使唤")
    assert "throat_tightness" in concepts(triager, "最近嗓子发紧")  # 近 sounds like 紧


def test_a_character_of_a_word_written_exactly_is_no_slip(triager):
    # 郁 sounds like 淤 (淤了, a bruise) but here it belongs to 抑郁, written as meant
    assert "bruising" not in concepts(triager, "家里人问我是不是抑郁了")


def test_a_very_common_character_is_never_a_slip(triager):
    # 是 sounds like 嗜 (嗜睡, sleepiness), but 要是睡着 is "if I fell asleep"
    assert "fatigue" not in concepts(triager, "要是睡着了就好了")


def test_cantonese_characters_are_read_as_their_mandarin_words(triager):
    assert concepts(triager, "佢冇发烧")["fever"]["negated"]  # 冇 = 没有
    assert level(triager, "我系咪死咗会好啲") == "emergency"  # 系咪 = 是不是, 咗 = 了


def test_traditional_characters_are_read_as_simplified(triager):
    assert {"headache", "fever", "stiff_neck"} <= set(concepts(triager, "頭痛發燒脖子硬"))


@pytest.mark.parametrize(
    ("text", "fever"),
    [
        ("体温三十八度五", True),
        ("烧到39度2", True),
        ("三十七度二，还好", False),
        ("体温三十八，头疼", True),  # no 度 after a fever word
        ("量了体温三十六度九，没烧", False),  # not 三十…八 with a gap
    ],
)
def test_temperatures_in_words_and_digits(triager, text, fever):
    assert ("fever" in concepts(triager, text)) is fever


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("下午两点开始输的，现在三点半，身上好痒", "within_2h"),
        ("拔针四十分钟了，浑身发冷", "within_2h"),
        ("输液室出来一个半钟头了，起了风团", "within_2h"),
        ("吊瓶快滴完了，皮肤开始痒", "during"),
        ("上周输的液，这两天起疹子", "later"),
        ("打完针四十分钟 手上起红点", "within_2h"),
        ("快挂完的时候 觉得脸发烫", "during"),
        ("打完針一粒鐘 好痕", "within_2h"),
        ("输液后半小时 身上起疙瘩", "within_2h"),
        ("护士刚给我拔了针 手臂痒", "within_2h"),
        ("输完回家路上开始发冷", "within_2h"),
        ("早上十点打的针 现在十一点半 起了风团", "within_2h"),
        ("正在打TY 身上痒", "during"),
        ("输到第二瓶的时候开始头疼", "during"),
        ("三天前打的针 现在发烧", "later"),
        ("挂水ing 胳膊上痒", "during"),  # an English -ing on the verb
        ("人在输液室里 脸发红", "during"),
        ("输的时候没事，回到家两天了才起疹子", "later"),  # nothing happened during it
        ("不是输的时候 是输完好几天以后才痒", "later"),
        ("刚做完有氧 身上有点痒", "unknown"),  # something else was just done
        ("输液输了 15分钟 开始痒", "during"),  # a space before the amount
        ("输液第25分钟 开始发冷", "during"),
        ("刚刚吊完针 身上起红疹", "within_2h"),
        ("打完针刚走到停车场 浑身发冷", "within_2h"),
        ("上午9:30输完的,10:40开始打寒战", "within_2h"),  # 打寒战 is no 开始打 (the drip)
        ("九点开始打 十点十分结束 十一点五十觉得头晕", "within_2h"),  # when it began
    ],
)
def test_the_infusion_window_from_times_said_in_words(triager, text, window):
    assert triager.parse(text, "zh").infusion_window == window


def test_a_denial_reaches_only_the_next_sign_even_without_a_comma(triager):
    found = concepts(triager, "没发烧皮肤发黄")
    assert found["fever"]["negated"] and not found["jaundice"]["negated"]


def test_an_a_not_a_question_denies_nothing(triager):
    found = concepts(triager, "会不会让人想不开")
    assert not found["suicidal_thoughts"]["negated"]


def test_asking_whether_the_medicine_causes_a_sign_is_a_question(triager):
    assert level(triager, "用这个药会掉头发吗 会不会头疼") == "info"
    assert level(triager, "每次打完都会头疼 这次也是") == "routine"  # a habit, reported


def test_a_report_asking_what_to_do_is_still_a_report(triager):
    assert level(triager, "突然喘不上气 胸口好闷 怎么办啊") == "emergency"
    assert level(triager, "如果出现黄疸怎么办") == "info"


def test_english_words_inside_a_chinese_message_count(triager):
    parse, result = triager.assess("my eyes look kind of yellow,而且这几天一直没胃口")
    assert parse.lang == "zh" and result.level == "urgent" and result.categories[0] == "liver"
    assert "floaters" in concepts(triager, "有 floaters,昨天开始的")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("皮疹不太痒", "present"),  # "not very itchy" is still itching
        ("皮疹不痒", "negated"),
        ("计划都想好了 不想活了", "present"),  # 想好了 is "decided", not "better"
    ],
)
def test_how_much_is_not_whether(triager, text, expected):
    mentions = triager.parse(text, "zh").symptoms
    wanted = expected == "negated"
    assert mentions and any(m.negated == wanted for m in mentions)


@pytest.mark.parametrize(
    ("text", "level_"),
    [
        ("咳嗽咳了好几个星期", "urgent"),  # weeks said without a number: lasting
        ("拉肚子 用了药也不见好", "urgent"),  # not getting better with treatment
        ("我妈腿疼 她打这个针快两年了", "routine"),  # the treatment's time, not the pain's
        ("大便里好多血", "emergency"),  # a large amount of blood
        ("吐了一整天，一天跑十几趟厕所", "urgent"),  # how often, in trips
        ("尿完还疼 还有血丝", "urgent"),  # blood when passing urine
        ("刷完牙嘴里一直流血 按了半小时还在流", "emergency"),
        ("最近总想 要是我死了家里人是不是会更好", "emergency"),  # the thought, not a question
    ],
)
def test_how_long_and_how_much_raise_the_level(triager, text, level_):
    assert level(triager, text) == level_


def test_a_relative_who_is_not_on_the_drug_does_not_count(triager):
    assert level(triager, "我妈皮肤发黄，她没用这个药") == "none"
    assert level(triager, "我爸最近特别累 眼睛也黄黄的") == "urgent"  # a carer writing
    assert level(triager, "我舍友咳嗽发烧 她不打这个针 我挺好的") == "none"
    assert level(triager, "我同事胃疼拉肚子 有啥办法") == "none"  # nobody's patient
    assert level(triager, "我病友打的是别的药 最近老头疼") == "none"
    assert level(triager, "早上好 今天天气几好") == "none"  # 几 is no slip for 急 (气急)
    assert level(triager, "我同事也在用这个药 她现在脸肿了喘不上气") == "emergency"
    # the writer speaks of themselves only to say they are well
    assert level(triager, "我老公没打这个针，他发高烧，咳得很厉害。我自己一切正常") == "none"


def test_a_space_between_chinese_characters_is_a_comma(triager):
    # "累死了 休息一下会不会好点": the idiom 累死了 and the question after the space do not
    # join into 死了会不会好 (a thought of dying); without the space they would.
    assert "suicidal_thoughts" not in concepts(triager, "累死了 休息一下会不会好点")
    assert "suicidal_thoughts" in concepts(triager, "我死了会不会好点")


def test_an_underarm_reading_has_its_own_fever_threshold(triager):
    # 腋温 reads about 0.5 °C below a reading by mouth: 37.6 under the arm is a fever in a
    # Chinese message (protocol.yml fever_celsius_by_language), not in an English one.
    assert "fever" in concepts(triager, "体温37.6，一直咳嗽")
    assert "fever" not in concepts(triager, "体温37.2，一直咳嗽")
    english = triager.parse("temp 37.6 and coughing", "en")
    assert "fever" not in {m.concept for m in english.symptoms if not m.negated}


def test_a_checklist_answered_no_denies_its_items(triager):
    found = concepts(triager, "1.发烧 有 38.9 2.咳嗽 有 3.皮疹 无 4.头疼 无 5.脖子硬 无")
    assert not found["fever"]["negated"] and not found["cough"]["negated"]
    assert found["headache"]["negated"] and found["stiff_neck"]["negated"]
    assert level(triager, "1.发烧 有 38.9 2.咳嗽 有 3.皮疹 无 4.头疼 无 5.脖子硬 无") == "urgent"


def test_a_list_joined_by_the_enumeration_comma_shares_its_cue(triager):
    found = concepts(triager, "如果喘不上气、嘴唇肿了，是打120还是先打给医生？")
    assert found["breathing_difficulty"]["hypothetical"]
    assert found["face_swelling"]["hypothetical"]


def test_word_by_word_spacing_is_not_a_comma(triager):
    assert level(triager, "输了有半个小时吧 我现在 感觉 嗓子 有点 紧 说话 费劲") == "emergency"


def test_english_symptom_words_inside_chinese_are_read_as_chinese(triager):
    # "有点itchy" is 有点痒: the Chinese cues and timing around an English word still apply
    assert level(triager, "打完infusion大概四十分钟，手上有点itchy") == "emergency"
    assert "jaundice" in concepts(triager, "同事说我脸色好yellow")
    assert concepts(triager, "没有itchy，就是累")["itching"]["negated"]
