"""The SCP evaluator itself: matching, condition operators and SCP allow/deny semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.scp_evaluator import (
    FULL_AWS_ACCESS,
    Request,
    action_matches,
    arn_like,
    condition_holds,
    denies,
    evaluate,
    evaluate_path,
    statement_matches,
    wildcard_match,
)

ROLE = "arn:aws:iam::444444444444:role/app"


def deny(**statement):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", **statement}]}


class TestMatching:
    @pytest.mark.parametrize(
        ("pattern", "action", "expected"),
        [
            ("cloudtrail:StopLogging", "cloudtrail:stoplogging", True),
            ("CLOUDTRAIL:stop*", "cloudtrail:StopLogging", True),
            ("cloudtrail:Stop?ogging", "cloudtrail:StopLogging", True),
            ("cloudtrail:Stop?ogging", "cloudtrail:StopXXogging", False),
            ("cloudtrail:*", "config:PutConfigRule", False),
            ("*", "anything:AtAll", True),
            ("s3:Put*", "s3:GetObject", False),
        ],
    )
    def test_actions_match_with_wildcards_ignoring_case(self, pattern, action, expected):
        assert action_matches(pattern, action) is expected

    def test_resources_match_case_sensitively(self):
        assert wildcard_match("arn:aws:s3:::logs-*", "arn:aws:s3:::logs-1")
        assert not wildcard_match("arn:aws:s3:::logs-*", "arn:aws:s3:::LOGS-1")
        assert not wildcard_match("arn:aws:s3:::logs", "arn:aws:s3:::logs-1")

    def test_regex_characters_in_patterns_are_literal(self):
        assert wildcard_match("/aws/cloudtrail/a.b", "/aws/cloudtrail/a.b")
        assert not wildcard_match("/aws/cloudtrail/a.b", "/aws/cloudtrail/aXb")

    def test_arn_like_matches_part_by_part(self):
        assert arn_like("arn:aws:iam::*:role/admin", ROLE.replace("app", "admin"))
        assert arn_like("arn:aws:iam::*:role/cdk-*", "arn:aws:iam::1:role/cdk-exec/with/path")
        # A '*' in the account part does not swallow the colons of other parts.
        assert not arn_like("arn:aws:iam::*", ROLE)
        assert not arn_like("arn:aws:iam::*:role/admin", "not-an-arn")
        assert not arn_like("arn:aws:iam:*:1:role/a", "arn:aws:iam:x:y:1:role/a")
        # Nor does a '?': it stands for one character of its own part.
        assert not arn_like("arn:aws:iam:?:1:role/a", "arn:aws:iam:::1:role/a")
        assert arn_like("arn:aws:iam:?:1:role/a", "arn:aws:iam:x:1:role/a")
        assert arn_like("arn:aws:iam::1:role/a?b", "arn:aws:iam::1:role/a:b")  # the sixth part may hold colons

    @settings(max_examples=300, derandomize=True, database=None)
    @given(data=st.data())
    def test_arn_like_is_the_part_by_part_match(self, data: st.DataObject):
        """One regex per pattern (cached) gives what matching the six parts one by one gives."""
        # Mostly six parts, wildcards and colons where they could cross a part.
        pattern = data.draw(st.lists(st.text(alphabet="*?ab.\n:", max_size=4), min_size=5, max_size=7).map(":".join))
        random_arn = st.lists(st.text(alphabet="ab.\n*?:", max_size=4), min_size=5, max_size=7).map(":".join)
        # The pattern with each wildcard filled in, colons included: where a crossing wildcard would match.
        filler = st.text(alphabet="ab:", max_size=3)
        filled = st.builds(
            lambda fills: "".join(
                fills.pop() if c == "*" else (fills.pop()[:1] or "a") if c == "?" else c for c in pattern
            ),
            st.lists(filler, min_size=len(pattern), max_size=len(pattern)),
        )
        arn = data.draw(st.one_of(random_arn, filled))
        pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
        expected = (
            len(pattern_parts) == 6
            and len(arn_parts) == 6
            and all(wildcard_match(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))
        )
        assert arn_like(pattern, arn) is expected


class TestConditions:
    def test_negated_operators_hold_when_the_key_is_absent(self):
        assert condition_holds("ArnNotLike", None, ["arn:aws:iam::*:role/admin"])
        assert condition_holds("StringNotEquals", None, ["eu-west-1"])
        assert not condition_holds("StringEquals", None, ["eu-west-1"])
        assert not condition_holds("ArnLike", None, ["arn:*"])

    def test_negated_operators_with_several_values_need_all_to_differ(self):
        assert not condition_holds("StringNotEquals", "eu-west-1", ["eu-west-1", "us-east-1"])
        assert condition_holds("StringNotEquals", "ap-south-1", ["eu-west-1", "us-east-1"])

    def test_if_exists_holds_when_absent_and_checks_when_present(self):
        assert condition_holds("StringEqualsIfExists", None, ["x"])
        assert not condition_holds("StringEqualsIfExists", "y", ["x"])

    def test_null_checks_presence(self):
        assert condition_holds("Null", None, ["true"])
        assert not condition_holds("Null", "v", ["true"])
        assert condition_holds("Null", "v", ["false"])

    def test_bool_compares_case_insensitively(self):
        assert condition_holds("Bool", True, ["true"])
        assert condition_holds("Bool", "TRUE", ["true"])
        assert not condition_holds("Bool", False, ["true"])

    def test_string_like_and_ignore_case(self):
        assert condition_holds("StringLike", "arn:aws:iam::1:root", ["arn:aws:iam::*:root"])
        assert not condition_holds("StringNotLike", "arn:aws:iam::1:root", ["arn:aws:iam::*:root"])
        assert condition_holds("StringEqualsIgnoreCase", "ABC", ["abc"])
        assert not condition_holds("StringEquals", "ABC", ["abc"])

    def test_set_qualifiers(self):
        aliases = ["alias/acme/log-archive", "alias/other"]
        assert condition_holds("ForAnyValue:StringLike", aliases, ["alias/acme/*"])
        assert not condition_holds("ForAllValues:StringLike", aliases, ["alias/acme/*"])
        assert condition_holds("ForAllValues:StringLike", None, ["alias/acme/*"])
        assert not condition_holds("ForAnyValue:StringLike", None, ["alias/acme/*"])

    def test_multi_valued_key_without_qualifier_is_an_error(self):
        with pytest.raises(ValueError, match="needs ForAnyValue/ForAllValues"):
            condition_holds("StringLike", ["a", "b"], ["a"])

    def test_unsupported_operator_is_an_error(self):
        with pytest.raises(ValueError, match="'NumericLessThan' is not supported"):
            condition_holds("NumericLessThan", "1", ["2"])

    def test_condition_keys_are_case_insensitive(self):
        policy = deny(Action="*", Resource="*", Condition={"StringEquals": {"AWS:requestedregion": "eu-west-1"}})
        assert denies(policy, Request(action="s3:GetObject", region="eu-west-1"))
        assert denies(policy, Request(action="s3:GetObject", context={"aws:RequestedRegion": "eu-west-1"}))


class TestStatements:
    def test_not_action_matches_everything_else(self):
        statement = {"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}
        assert statement_matches(statement, Request(action="ec2:RunInstances"))
        assert not statement_matches(statement, Request(action="IAM:CreateRole"))

    def test_not_resource_matches_everything_else(self):
        statement = {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::keep"}
        assert statement_matches(statement, Request(action="s3:DeleteBucket", resource="arn:aws:s3:::other"))
        assert not statement_matches(statement, Request(action="s3:DeleteBucket", resource="arn:aws:s3:::keep"))

    def test_statement_without_action_never_matches(self):
        assert not statement_matches({"Effect": "Deny", "Resource": "*"}, Request(action="s3:GetObject"))


class TestScpSemantics:
    def test_full_aws_access_allows_and_a_deny_wins(self):
        request = Request(action="ec2:RunInstances", principal_arn=ROLE)
        assert evaluate([FULL_AWS_ACCESS], request).allowed
        decision = evaluate([FULL_AWS_ACCESS, deny(Sid="NoEc2", Action="ec2:*", Resource="*")], request)
        assert decision.denied and not decision.allowed
        assert decision.denied_by == ("1#NoEc2",)

    def test_without_an_allow_the_request_is_implicitly_denied(self):
        decision = evaluate([deny(Action="ec2:*", Resource="*")], Request(action="s3:GetObject"))
        assert not decision.allowed and not decision.denied

    def test_every_level_of_the_path_must_allow(self):
        only_s3 = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
        request = Request(action="ec2:RunInstances")
        assert evaluate_path([[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]], request).allowed
        assert not evaluate_path([[FULL_AWS_ACCESS], [only_s3]], request).allowed
        assert evaluate_path([[FULL_AWS_ACCESS], [only_s3]], Request(action="s3:GetObject")).allowed
