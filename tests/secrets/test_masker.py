"""The masker: values replaced by "****" wherever they appear, longest first."""

from runner.masking import MASK, Masker


def masker_of(*values: str) -> Masker:
    masker = Masker()
    for value in values:
        masker.add(value)
    return masker


def test_a_value_is_masked_wherever_it_appears():
    assert (
        masker_of("hunter2").text("user=ana password=hunter2;hunter2") == f"user=ana password={MASK};{MASK}"
    )


def test_a_value_containing_another_is_masked_whole():
    masker = masker_of("abc", "abcdef")

    assert masker.text("abcdef abc") == f"{MASK} {MASK}"


def test_escaped_forms_of_a_value_are_masked_too():
    masker = masker_of('pa"ss\\word\n')

    assert masker.text('{"p": "pa\\"ss\\\\word\\n"}') == '{"p": "****"}'
    assert masker.text(repr('pa"ss\\word\n')) == "'****'"


def test_an_empty_value_masks_nothing():
    masker = masker_of("")

    assert not masker
    assert masker.text("anything") == "anything"


def test_a_short_value_is_masked_as_well():
    assert masker_of("x7").text("ax7b") == f"a{MASK}b"


def test_data_is_masked_in_keys_and_values_at_any_depth():
    masker = masker_of("hunter2")

    masked = masker.data({"hunter2": ["a", {"k": "x-hunter2"}], "n": 1, "none": None})

    assert masked == {MASK: ["a", {"k": f"x-{MASK}"}], "n": 1, "none": None}


def test_nothing_is_copied_before_a_value_is_known():
    data = {"a": ["b"]}

    assert Masker().data(data) is data


def test_a_text_cut_through_a_value_has_the_values_head_masked():
    masker = masker_of("hunter2")

    assert masker.cut_text("hunter2 and then hunt") == f"{MASK} and then {MASK}"
    assert masker.cut_text("nothing of it here") == "nothing of it here"
