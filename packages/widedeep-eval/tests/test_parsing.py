from pkg_widedeep_eval.parsing import FAILED, parse_aspects, parse_scores, swap_labels


def test_aspects_dollar_ampersand():
    text = "Angles:\n$Accuracy& whether facts hold\n$Relevance& on topic\n$Accuracy& again"
    assert parse_aspects(text) == ["Accuracy", "Relevance"]


def test_aspects_code_terminator_and_newlines():
    text = "$Correct\nness@ passes tests\n$Efficiency@ runs fast; a && b"
    assert parse_aspects(text, "@") == ["Correctness", "Efficiency"]
    assert parse_aspects("no angles here") == []


def test_scores_variants():
    review = "Evaluation evidence: fine.\nScore of Assistant 1: 8\nScore of the Assistant 2: 7.5"
    assert parse_scores(review) == (8.0, 7.5)
    assert parse_scores("score of assistant 1: 3.\nSCORE OF ASSISTANT 2: 9") == (3.0, 9.0)


def test_scores_garbage_is_minus_one():
    assert parse_scores("I like both.") == FAILED == (-1.0, -1.0)
    assert parse_scores("Score of Assistant 1: 8") == FAILED  # the second line is missing
    assert parse_scores("Score of Assistant 1: ...\nScore of Assistant 2: 4") == FAILED


def test_swap_labels_is_an_involution():
    text = "Assistant 1 is vague; Assistant 2 cites a source. Score of Assistant 1: 3"
    swapped = swap_labels(text)
    assert swapped == "Assistant 2 is vague; Assistant 1 cites a source. Score of Assistant 2: 3"
    assert swap_labels(swapped) == text
