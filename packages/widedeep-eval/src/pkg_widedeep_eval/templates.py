"""Prompts of every neuron, per task family (paper Sec. 3 and Appendix; official ``utils/experts_task.py``).

Written in this package's own words, keeping the official structure: the roles, the ``$angle&`` format
(``$angle@`` for code) that :func:`~pkg_widedeep_eval.parsing.parse_aspects` reads, the
``[The Start of Assistant k's ...]`` blocks, and the exact ``Score of Assistant k: <score>`` lines that
:func:`~pkg_widedeep_eval.parsing.parse_scores` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Family:
    """One task family: how its input and its two outputs are named, and what the experts judge."""

    name: str
    context: str  # block header of the input, e.g. "Question"
    item: str  # what each assistant wrote, e.g. "Answer"
    input_phrase: str  # "a user question" (layer 0)
    goal: str  # "better answers the question"
    task: str  # "in response to the user question" (layer 1+)
    terminator: str = "&"


FAMILIES = {
    f.name: f
    for f in (
        Family("QA", "Question", "Answer", "the user question", "better answers the question", "answering the user question"),
        Family("SUM", "Document", "Summary", "the document", "better summarises the document", "summarising the document"),
        Family("Story", "Story", "Response", "the story", "is the better ending of the story", "writing an ending for the story"),
        Family("DataText", "Data", "Response", "the structured data", "better describes the structured data", "describing the structured data in natural language"),
        Family("NLI", "Sentence", "Completion", "the sentence", "better completes the sentence", "completing the sentence"),
        Family("SDia", "Dialogue Context", "Response", "the dialogue context", "better continues the dialogue", "continuing the dialogue"),
        Family("MDia", "Multi-turn Dialogue", "Response", "the multi-turn dialogue", "is the better reply in the dialogue", "replying in the multi-turn dialogue"),
        Family("SaQA", "Question", "Answer", "the user question", "answers the question more helpfully and more safely", "answering the user question helpfully and harmlessly"),
        Family("Code", "Programming Problem", "Solution", "the programming problem", "better solves the programming problem", "solving the programming problem", "@"),
    )
}  # fmt: skip

DATASET_FAMILY = {
    "webgpt": "QA",
    "shp": "QA",
    "eli5": "QA",
    "rlhf-reward-chinese": "QA",
    "reward-aira-portuguese": "QA",
    "summeval": "SUM",
    "summarizefeedback": "SUM",
    "openmeva": "Story",
    "bagel": "DataText",
    "hellaswag": "NLI",
    "hh-rlhf": "SDia",
    "rlhf-reward-russian": "SDia",
    "pku-saferlhf": "SaQA",
    "mt-bench": "MDia",
    "code-contests": "Code",
}
"""The official table mapping each LLMEval² source to its template family; unknown sources use QA."""


def family_of(dataset: str | None) -> Family:
    """The template family of a source dataset (QA for anything not in :data:`DATASET_FAMILY`)."""
    return FAMILIES[DATASET_FAMILY.get(dataset or "", "QA")]


def aspect_prompt(family: Family, query: str, answer1: str, answer2: str, limited: int | None) -> Messages:
    """Layer 0: ask which angles decide between the two outputs, one ``$angle&`` per line.

    ``limited`` asks for exactly that many angles (the paper's "limited" variant asks for two).
    """
    t = family.terminator
    how_many = f"Give exactly the {limited} most important angles. " if limited else ""
    text = (
        f"Consider {family.input_phrase}: “{query}”\n"
        f"Two assistants produced “{answer1}” and “{answer2}”.\n"
        f"From which angles should we judge which of the two {family.item.lower()}s {family.goal}?\n"
        f"{how_many}Write one angle per line: its name and what it checks. "
        f"Start every angle name with $ and end it with {t}, for example: $Correctness{t} whether the "
        f"facts are right."
    )
    return [{"role": "user", "content": text}]


def _system(family: Family) -> str:
    return (
        f"You are one member of an expert group that checks the quality of {family.item.lower()}s. "
        f"You see one {family.context.lower()} and two {family.item.lower()}s, and you decide which "
        f"{family.item.lower()} {family.goal}."
    )


def _frame(family: Family, query: str, answer1: str, answer2: str, instruction: str) -> str:
    item = family.item
    return (
        f"[{family.context}]\n{query}\n\n"
        f"[The Start of Assistant 1's {item}]\n{answer1}\n[The End of Assistant 1's {item}]\n\n"
        f"[The Start of Assistant 2's {item}]\n{answer2}\n[The End of Assistant 2's {item}]\n\n"
        f"[System]\n{instruction}\n"
    )


def _scoring(family: Family, angle: str | None) -> str:
    view = f"taking {angle} as your angle of view, " if angle else ""
    return (
        f"Please judge, {view}how well the two AI assistants did at {family.task} shown above.\n"
        "Give each assistant one score from 1 to 10, higher meaning better.\n"
        "First explain your judgement in full; stay unbiased and do not let the order in which the two "
        "were shown change your judgement. Then write the two scores on two lines.\n\n"
        "Answer in exactly this format:\n"
        "Evaluation evidence: <your explanation>\n"
        "Score of Assistant 1: <score>\n"
        "Score of Assistant 2: <score>\n"
    )


def neuron_prompt(family: Family, query: str, answer1: str, answer2: str, aspect: str) -> Messages:
    """Layer 1: one neuron scores both outputs from its own angle ``aspect``."""
    user = _frame(family, query, answer1, answer2, _scoring(family, aspect))
    return [{"role": "system", "content": _system(family)}, {"role": "user", "content": user}]


def discussion_prompt(
    family: Family,
    query: str,
    answer1: str,
    answer2: str,
    own: Sequence[str],
    others: Sequence[str],
    aspects: str,
) -> Messages:
    """Layer l >= 2: rescore after reading one's own earlier reviews and the neighbours' reviews.

    As in the official code, the discussion block is shown only when there are both own and others'
    reviews (a network of width 1 has no neighbours and just rescores).
    """
    instruction = _scoring(family, aspects)
    if own and others:
        history = (
            "You and your colleagues in the expert group have already gone through rounds of evaluation.\n"
            "[The Start of Your Historical Evaluations]\n"
            + "\n\n".join(own)
            + "\n[The End of Your Historical Evaluations]\n\n"
            "[The Start of Other Colleagues' Evaluations]\n"
            + "\n\n".join(others)
            + "\n[The End of Other Colleagues' Evaluations]\n\n"
            "Once more, "
        )
        instruction = history + instruction[0].lower() + instruction[1:]
    user = _frame(family, query, answer1, answer2, instruction)
    return [{"role": "system", "content": _system(family)}, {"role": "user", "content": user}]


def single_prompt(family: Family, query: str, answer1: str, answer2: str) -> Messages:
    """The single-neuron baseline: one general judge without an angle (LLM-as-a-judge style, scored 1-10)."""
    system = (
        f"You are a helpful and precise judge of the quality of {family.item.lower()}s. You see one "
        f"{family.context.lower()} and two {family.item.lower()}s, and you decide which {family.goal}."
    )
    user = _frame(family, query, answer1, answer2, _scoring(family, None))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
