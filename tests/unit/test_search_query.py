"""The search box's language (console/core/search_query.py): what a typed query asks the index for."""

from __future__ import annotations

from datetime import date

import pytest
from standardiste.console.core.search_query import Term, fold, parse, tokens


def test_words_are_anded_and_the_last_one_is_a_prefix_while_typed() -> None:
    query = parse("refund dupon")
    assert query.terms == [Term(("refund",)), Term(("dupon",), prefix=True)]
    assert query.match() == '"refund" AND "dupon"*'
    assert not query.errors


def test_a_trailing_space_ends_the_prefix() -> None:
    assert parse("refund dupont ").terms[-1] == Term(("dupont",))


def test_a_prefix_of_two_letters_is_a_whole_word() -> None:
    # "re*" would match most of the index at the second key press.
    assert parse("refund re").terms[-1] == Term(("re",))
    assert parse("refund ref").terms[-1] == Term(("ref",), prefix=True)


def test_phrases_keep_their_order_and_an_unclosed_one_is_still_typed() -> None:
    assert parse('"card declined" x').terms[0] == Term(("card", "declined"))
    assert parse('"card decl').terms == [Term(("card", "decl"), prefix=True)]
    assert parse('"card decl"').terms == [Term(("card", "decl"))]


def test_accents_and_case_fold() -> None:
    assert fold("Remboursé") == "rembourse"
    assert tokens("RÜCKSENDUNG, Straße") == ["rucksendung", "strasse"]


def test_punctuated_words_search_as_phrases_of_their_tokens() -> None:
    query = parse("ref-1042 jean@example.com ")
    assert query.terms == [Term(("ref", "1042")), Term(("jean", "example", "com"))]


def test_fts_syntax_typed_is_only_text() -> None:
    query = parse('NEAR(a b) OR -c * "d')
    match = query.match()
    assert match is not None
    # Only quoted tokens and AND: no operator of the user's reaches FTS5.
    assert match == '"near a" AND "b" AND "or" AND "c" AND "d"'


def test_fields_take_the_filters_vocabulary() -> None:
    query = parse(
        "lang:DE channel:email state:solved tag:refund owner:me queue:billing prio:high customer:dupont"
    )
    assert query.fields == {
        "lang": ["de"],
        "channel": ["email"],
        "state": ["solved"],
        "tag": ["refund"],
        "owner": ["me"],
        "queue": ["billing"],
        "prio": ["high"],
        "customer": ["dupont"],
    }
    assert query.terms == [] and query.match() is None and not query.errors


def test_a_quoted_field_value() -> None:
    assert parse('customer:"Jean Dupont"').fields == {"customer": ["jean dupont"]}


def test_dates() -> None:
    query = parse("after:2026-12-01 before:2026-12-24 refund")
    assert (query.after, query.before) == (date(2026, 12, 1), date(2026, 12, 24))
    assert query.terms == [Term(("refund",), prefix=True)]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("after:yesterday", "YYYY-MM-DD"),
        ("channel:fax", "no channel 'fax'"),
        ("colour:red", "unknown field 'colour'"),
        ("sla:breached", "cannot be searched"),
        ("after:2026-12-24 before:2026-12-01", "nothing can match"),
        ("   ", "nothing to search for"),
        ("-- ??", "nothing to search for"),
        ("state:", "wants a value"),
    ],
)
def test_bad_queries_say_why(text: str, says: str) -> None:
    errors = parse(text).errors
    assert errors and says in errors[0]


def test_a_url_and_a_quoted_field_are_text() -> None:
    assert parse("https://shop.example/o/1042 ").terms == [Term(("https", "shop", "example", "o", "1042"))]
    assert parse('"ref:1042"').terms == [Term(("ref", "1042"))]
    assert not parse('"ref:1042"').errors
