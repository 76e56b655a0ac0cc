"""Filter-pattern parser and evaluator: each construct of the syntax, its semantics, its errors."""

from __future__ import annotations

import json

import pytest

from constructs_lib.filter_pattern import MAX_PATTERN_LENGTH, FilterPattern, FilterPatternError, matches, parse

RECORD = {
    "eventVersion": "1.09",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "RunInstances",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "203.0.113.7",
    "userIdentity": {"type": "IAMUser", "userName": "alice", "invokedBy": None},
    "requestParameters": {"instancesSet": {"items": [{"imageId": "ami-0abc", "minCount": 1}]}, "dryRun": False},
    "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0123", "cpuCores": 4}]}},
    "readOnly": False,
    "latency": 1250,
    "ratio": 0.25,
    "tags": ["prod", "web"],
}


class TestKinds:
    @pytest.mark.parametrize(
        ("pattern", "kind"),
        [
            ("", "all"),
            ("   ", "all"),
            ('{ $.eventName = "RunInstances" }', "json"),
            ("ERROR", "terms"),
            ('?ERROR ?WARN -DEBUG "disk full"', "terms"),
            ("[ip, user, ..., status, bytes]", "space-delimited"),
        ],
    )
    def test_kind(self, pattern, kind):
        parsed = parse(pattern)
        assert isinstance(parsed, FilterPattern)
        assert parsed.kind == kind
        assert parsed.text == pattern

    def test_empty_pattern_matches_everything(self):
        assert matches("", RECORD)
        assert matches("", "any line at all")


class TestJsonComparisons:
    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ('{ $.eventName = "RunInstances" }', True),
            ("{ $.eventName = RunInstances }", True),
            ("{$.eventName=RunInstances}", True),
            ('{ $.eventName = "runinstances" }', False),  # case-sensitive
            ('{ $.eventName = "Run" }', False),  # whole value, not a substring
            ('{ $.eventName = "Run*" }', True),
            ('{ $.eventName = "*Instances" }', True),
            ('{ $.eventName = "R*n*s" }', True),
            ('{ $.eventName = "*" }', True),
            ('{ $.missing = "*" }', False),
            ('{ $.eventName != "StopInstances" }', True),
            ('{ $.eventName != "RunInstances" }', False),
            ('{ $.eventName != "Run*" }', False),
            ('{ $.userIdentity.userName = "alice" }', True),
            ("{ $.sourceIPAddress = 203.0.113.* }", True),
            ("{ $.sourceIPAddress != 10.* }", True),
            ('{ $.requestParameters.instancesSet.items[0].imageId = "ami-0abc" }', True),
            ('{ $.requestParameters.instancesSet.items[1].imageId = "ami-0abc" }', False),
            ("{ $.tags[1] = web }", True),
            ("{ $.latency > 1000 }", True),
            ("{ $.latency >= 1250 }", True),
            ("{ $.latency > 1250 }", False),
            ("{ $.latency < 2000 }", True),
            ("{ $.latency <= 1249 }", False),
            ("{ $.latency = 1250 }", True),
            ("{ $.latency = 1250.0 }", True),
            ("{ $.latency != 1250 }", False),
            ("{ $.ratio < 0.5 }", True),
            ("{ $.ratio > -1 }", True),
            ("{ $.responseElements.instancesSet.items[0].cpuCores >= 4 }", True),
            ("{ $.eventName > 5 }", False),  # ordering compares numbers only
            ("{ $.readOnly IS FALSE }", True),
            ("{ $.readOnly IS TRUE }", False),
            ("{ $.requestParameters.dryRun is false }", True),  # keywords are case-insensitive
            ("{ $.userIdentity.invokedBy IS NULL }", True),
            ("{ $.userIdentity.userName IS NULL }", False),
            ("{ $.missing IS NULL }", False),
            ("{ $.missing NOT EXISTS }", True),
            ("{ $.userIdentity.invokedBy NOT EXISTS }", False),  # present, even though null
            ("{ $.eventName NOT EXISTS }", False),
            ("{ $.eventName = %Run[A-Z]nstances% }", True),
            ("{ $.eventName = %^Stop% }", False),
        ],
    )
    def test_comparison(self, pattern, expected):
        assert matches(pattern, RECORD) is expected

    @pytest.mark.parametrize("op", ["=", "!=", "<", ">", "<=", ">="])
    def test_a_comparison_on_an_absent_field_never_matches(self, op):
        assert matches(f"{{ $.nope {op} 1 }}", RECORD) is False

    def test_not_equal_on_an_absent_field_does_not_match_but_not_exists_does(self):
        record = {"eventName": "ConsoleLogin"}
        assert not matches('{ $.additionalEventData.MFAUsed != "Yes" }', record)
        assert matches("{ $.additionalEventData.MFAUsed NOT EXISTS }", record)

    def test_objects_and_arrays_do_not_compare_as_values(self):
        assert not matches('{ $.userIdentity = "*" }', RECORD)
        assert not matches('{ $.tags = "*" }', RECORD)

    def test_quoted_value_with_escapes_and_spaces(self):
        record = {"errorMessage": 'Failed "authentication" now'}
        assert matches(r'{ $.errorMessage = "Failed \"authentication\" now" }', record)
        assert matches('{ $.errorMessage = "Failed*now" }', record)

    def test_boolean_and_number_fields_compare_by_their_json_text(self):
        assert matches("{ $.readOnly = false }", RECORD)
        assert not matches("{ $.readOnly = true }", RECORD)
        assert matches('{ $.latency = "12*" }', RECORD)


class TestJsonLogic:
    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ('{ $.eventName = "RunInstances" && $.awsRegion = "eu-west-1" }', True),
            ('{ $.eventName = "RunInstances" && $.awsRegion = "us-east-1" }', False),
            ('{ $.eventName = "StopInstances" || $.awsRegion = "eu-west-1" }', True),
            ('{ $.eventName = "StopInstances" || $.awsRegion = "us-east-1" }', False),
            # && binds tighter than ||: false || (true && true)
            ('{ $.eventName = "X" || $.awsRegion = "eu-west-1" && $.readOnly IS FALSE }', True),
            # (false || true) && false
            ('{ ($.eventName = "X" || $.awsRegion = "eu-west-1") && $.readOnly IS TRUE }', False),
            # without the parentheses: false || (true && false)
            ('{ $.eventName = "X" || $.awsRegion = "eu-west-1" && $.readOnly IS TRUE }', False),
            ('{ (($.eventName = "RunInstances")) }', True),
            ("{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = A) || ($.eventName = RunInstances)) }", True),
        ],
    )
    def test_logic(self, pattern, expected):
        assert matches(pattern, RECORD) is expected

    def test_a_log_line_holding_json_is_read_as_json(self):
        line = json.dumps(RECORD)
        assert matches('{ $.eventName = "RunInstances" }', line)
        assert not matches('{ $.eventName = "StopInstances" }', line)

    def test_a_line_that_is_not_json_matches_no_json_pattern(self):
        assert not matches('{ $.eventName = "*" }', "RunInstances by alice")
        assert not matches("{ $.x NOT EXISTS }", "plain text")
        assert not matches("{ $.x NOT EXISTS }", '"a json string, not an object"')

    def test_a_parsed_pattern_is_reusable(self):
        parsed = parse('{ $.eventName = "RunInstances" }')
        assert matches(parsed, RECORD)
        assert parsed.matches(RECORD)
        assert not parsed.matches({"eventName": "StopInstances"})


class TestTerms:
    LINE = '2024-05-01T10:00:00Z [ERROR] MainThread: disk full on /dev/sda1 "retrying"'

    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ("ERROR", True),
            ("error", False),  # case-sensitive
            ("ERROR MainThread", True),
            ("ERROR WorkerThread", False),
            ("?WARN ?ERROR", True),
            ("?WARN ?FATAL", False),
            ("ERROR -DEBUG", True),
            ("ERROR -MainThread", False),
            ('"disk full"', True),
            ('"full disk"', False),
            ('ERROR "disk full" -"disk empty"', True),
            ("-DEBUG", True),
            ("-ERROR", False),
            ("ERROR ?WARN ?MainThread", True),
            ("ERROR ?WARN ?Other", False),
        ],
    )
    def test_terms(self, pattern, expected):
        assert matches(pattern, self.LINE) is expected

    def test_terms_read_a_record_as_its_json_text(self):
        assert matches('RunInstances "203.0.113.7"', RECORD)
        assert not matches("StopInstances", RECORD)


class TestRegex:
    def test_a_regex_pattern_searches_the_line(self):
        assert parse("%AUTHORI[SZ]ED%").kind == "regex"
        assert matches("%AUTHORI[SZ]ED%", "[SUCCESS 200] AUTHORIZED REQUEST")
        assert matches("%AUTHORI[SZ]ED%", "[ERROR 401] UNAUTHORIZED REQUEST")
        assert not matches("%^AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST")
        assert matches("%ConsoleLogin%", {"eventName": "ConsoleLogin"})

    @pytest.mark.parametrize(
        ("pattern", "position", "reason"),
        [("%open", 5, "ends with '%'"), ("%", 1, "ends with '%'"), ("%(%", 1, "invalid regular expression")],
    )
    def test_regex_errors(self, pattern, position, reason):
        with pytest.raises(FilterPatternError, match=reason) as raised:
            parse(pattern)
        assert raised.value.position == position


class TestSpaceDelimited:
    LINE = '10.0.0.1 - alice [10/Oct/2024:13:55:36 +0000] "GET /index.html HTTP/1.1" 404 2048'
    PATTERN = "[ip, identity, user, timestamp, request, status_code, bytes]"

    def test_fields_in_quotes_and_brackets_are_one_field(self):
        assert matches(self.PATTERN, self.LINE)
        assert matches('[ip, identity, user, timestamp, request = "GET /index.html*", status_code, bytes]', self.LINE)
        assert matches("[ip, identity, user, timestamp = 10/Oct/2024*, request, status_code, bytes]", self.LINE)

    def test_the_number_of_fields_must_match_without_an_ellipsis(self):
        assert not matches("[ip, user, status_code]", self.LINE)
        assert not matches("[a, b, c, d, e, f, g, h]", self.LINE)

    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ("[ip, ..., status_code = 4*, bytes > 1000]", True),
            ("[ip, ..., status_code=4*, bytes>1000]", True),
            ("[ip, ..., status_code = 5*, bytes > 1000]", False),
            ("[ip, ..., status_code = 404, bytes]", True),
            ("[ip, ..., status_code != 404, bytes]", False),
            ("[ip, ..., status_code, bytes < 1000]", False),
            ("[ip = 10.0.*, ...]", True),
            ("[ip = 192.*, ...]", False),
            ("[..., bytes >= 2048]", True),
            ("[..., status_code = 5* || status_code = 4*, bytes]", True),
            ("[..., status_code = 4* && bytes > 4096, bytes]", False),
            ("[ip, ..., user = alice, ..., bytes]", True),
            ("[ip, ..., user = bob, ..., bytes]", False),
            ("[...]", True),
        ],
    )
    def test_conditions(self, pattern, expected):
        assert matches(pattern, self.LINE) is expected


class TestErrors:
    @pytest.mark.parametrize(
        ("pattern", "position", "reason"),
        [
            ("{ $.a = }", 8, "expected a value after '='"),
            ("{ ($.a = 1 }", 11, "expected '\\)' to close the '\\(' group"),
            ("{ $.a = 1 ", 10, "expected '&&', '\\|\\|' or '}', found the end of the pattern"),
            ("{ $.a = 1 } extra", 12, "unexpected text after the closing '}'"),
            ("{ }", 2, "empty JSON pattern"),
            ("{ a = 1 }", 2, "expected a selector such as \\$.eventName"),
            ("{ $ = 1 }", 3, "expected '.' and a property name after '\\$'"),
            ("{ $. = 1 }", 4, "expected a property name after '.'"),
            ("{ $.a[x] = 1 }", 5, "expected an array index"),
            ("{ $.a ~ 1 }", 6, "expected an operator: =, !=, <, >, <=, >=, IS NULL"),
            ("{ $.a IS MAYBE }", 9, "expected NULL, TRUE or FALSE after IS"),
            ("{ $.a NOT THERE }", 10, "expected EXISTS after NOT"),
            ("{ $.a > abc }", 8, "'>' compares numbers, but 'abc' is not a number"),
            ('{ $.a = "open }', 8, "unterminated string"),
            ("{ $.a = %open }", 8, "unterminated regular expression"),
            ("{ $.a = %(% }", 8, "invalid regular expression"),
            ("{ $.a = 1 && }", 13, "expected a selector"),
            ("{ $.a = 1 & $.b = 2 }", 10, "expected '&&', '\\|\\|' or '}'"),
            ("[a, b", 5, "expected ',' or ']'"),
            ("[a, , b]", 4, "expected a field name or '...'"),
            ("[a, a]", 4, "field 'a' is named twice"),
            ("[abc, b=1 || c=2]", 13, "condition on unknown field 'c'"),
            ("[a, b >]", 7, "expected a value after '>'"),
            ("[a] x", 4, "unexpected text after the closing ']'"),
            ("ERROR ?", 7, "expected a term after '\\?'"),
            ("ERROR - x", 7, "expected a term after '-'"),
            ('ERROR ""', 6, "empty quoted term"),
            ('ERROR "open', 6, "unterminated string"),
            ("ERR{OR", 3, "unexpected '{' in a term"),
        ],
    )
    def test_error_names_the_position(self, pattern, position, reason):
        with pytest.raises(FilterPatternError, match=reason) as raised:
            parse(pattern)
        error = raised.value
        assert error.position == position
        assert error.pattern == pattern
        assert f"at position {position}:" in str(error)

    def test_message_shows_the_pattern_and_a_caret_under_the_position(self):
        with pytest.raises(FilterPatternError) as raised:
            parse('{ ($.eventName = "ConsoleLogin" && $.x = }')
        lines = str(raised.value).splitlines()
        assert lines[0] == "invalid filter pattern at position 41: expected a value after '='"
        assert lines[1] == '  { ($.eventName = "ConsoleLogin" && $.x = }'
        assert lines[2] == "  " + " " * 41 + "^"

    def test_error_is_a_value_error(self):
        with pytest.raises(ValueError):
            parse("{ $.a = }")

    def test_a_pattern_over_the_cloudwatch_limit_is_rejected(self):
        long = "{ " + " || ".join(f"($.eventName = Event{i})" for i in range(60)) + " }"
        assert len(long) > MAX_PATTERN_LENGTH
        with pytest.raises(FilterPatternError, match="at most 1024"):
            parse(long)
        parse(long[: MAX_PATTERN_LENGTH - 4].rsplit(" ||", 1)[0] + " }")

    def test_a_non_string_pattern_is_a_type_error(self):
        with pytest.raises(TypeError, match="a filter pattern is a string, got int"):
            parse(5)  # type: ignore[arg-type]

    def test_matches_raises_on_a_malformed_pattern(self):
        with pytest.raises(FilterPatternError):
            matches("{ $.a = }", RECORD)
