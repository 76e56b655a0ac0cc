"""``telemetry.on_premises`` and ``telemetry.detailed_monitoring``: validation, wiring in both modes, no secret in cdk.out."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import ConfigError, parse_config
from tests.conftest import EXAMPLE_CONFIGS, Synthesized, synthesize

#: An activation code as Systems Manager hands it out: 20 characters of base64 text. It would land
#: in a synthesized file as a whole JSON string value or as a quoted literal inside one (inline code);
#: to keep words and logical ids out, a candidate must mix upper case, lower case and digits and must
#: not be a CDK logical id (which ends in an 8-hex-digit hash).
CODE = r"[A-Za-z0-9+/]{20}"
QUOTED_CODE = re.compile(rf"[\"']({CODE})[\"']")
LOGICAL_ID = re.compile(r"^[A-Za-z0-9]*[0-9A-F]{8}$")


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def code_shaped(text: str) -> list[str]:
    """Strings in ``text`` (a JSON document, or any text) shaped like an activation code."""
    try:
        values = _strings(json.loads(text))
    except ValueError:
        values = [text]
    candidates = [v for v in values if re.fullmatch(CODE, v)]
    candidates += [m for v in values for m in QUOTED_CODE.findall(v)]
    return [
        c
        for c in candidates
        if re.search(r"[a-z]", c) and re.search(r"[A-Z]", c) and re.search(r"[0-9]", c) and not LOGICAL_ID.match(c)
    ]


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(EXAMPLE_CONFIGS[name].read_text()))


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


class TestConfig:
    def test_both_examples_switch_it_on(self):
        example = parse_config(load("example"))
        assert example.telemetry.on_premises.enabled and example.telemetry.on_premises.account == "shop-prod"
        assert example.telemetry.on_premises.platforms == ["linux", "windows"]
        assert example.telemetry.detailed_monitoring is True
        single = parse_config(load("single-account"))
        assert single.telemetry.on_premises.enabled and single.telemetry.on_premises.platforms == ["linux"]

    def test_defaults_are_off(self):
        data = load("single-account")
        data.pop("telemetry")
        telemetry = parse_config(data).telemetry
        assert telemetry.on_premises.enabled is False and telemetry.detailed_monitoring is False
        assert telemetry.on_premises.expiration_days == 30 and telemetry.on_premises.registration_limit == 10

    @pytest.mark.parametrize(
        ("on_premises", "message"),
        [
            ({"enabled": True, "account": None}, r"telemetry\.on_premises\.account: organization mode needs"),
            ({"enabled": True, "account": "nobody"}, r"telemetry\.on_premises\.account: 'nobody' is not an account"),
            ({"enabled": True, "platforms": ["linux", "linux"]}, r"telemetry\.on_premises\.platforms"),
            ({"expiration_days": 31}, r"telemetry\.on_premises\.expiration_days"),
            ({"registration_limit": 0}, r"telemetry\.on_premises\.registration_limit"),
            ({"tag_key": "aws:x"}, r"telemetry\.on_premises\.tag_key: 'aws:x'"),
            ({"default_instance_name": "a;b"}, r"telemetry\.on_premises\.default_instance_name: 'a;b'"),
        ],
    )
    def test_errors_name_the_path_and_value(self, on_premises, message):
        data = load("example")
        data["telemetry"]["on_premises"] = {"account": "shop-prod", **on_premises}
        with pytest.raises(ConfigError, match=message):
            parse_config(data)

    def test_ec2_tag_values_must_not_catch_hybrid_nodes(self):
        data = load("single-account")
        data["telemetry"]["cloudwatch_agent"] = {"enabled": True, "tag_values": ["on-premises-linux"]}
        with pytest.raises(ConfigError, match=r"telemetry\.cloudwatch_agent\.tag_values: .* overlap"):
            parse_config(data)


class TestSingleAccount:
    def test_activation_secret_role_and_agent_in_the_single_account_stack(self, synthesized):
        template = synthesized["single-account"].template_json("solo-single-account")
        (activation,) = resources(template, "Custom::SsmHybridActivation").values()
        assert activation["Properties"]["Tags"] == {"CloudWatchAgent": "on-premises-linux"}
        assert activation["Properties"]["RegistrationLimit"] == 5
        (secret,) = resources(template, "AWS::SecretsManager::Secret").values()
        assert secret["Properties"]["Name"] == "solo/on-premises/linux/activation"
        names = {r["Properties"]["Name"] for r in resources(template, "AWS::SSM::Parameter").values()}
        assert "AmazonCloudWatch-solo-onprem-linux" in names
        assert "OnPremisesActivationSecretLinux" in template["Outputs"]

    def test_associations_target_the_hybrid_nodes_by_tag(self, synthesized):
        template = synthesized["single-account"].template_json("solo-single-account")
        associations = [r["Properties"] for r in resources(template, "AWS::SSM::Association").values()]
        on_premises = [a for a in associations if "onprem" in a["AssociationName"]]
        assert len(on_premises) == 2
        for association in on_premises:
            assert association["Targets"] == [{"Key": "tag:CloudWatchAgent", "Values": ["on-premises-linux"]}]
        (configure,) = [a for a in on_premises if a["Name"] == "AmazonCloudWatch-ManageAgent"]
        assert configure["Parameters"]["mode"] == ["onPremise"]

    def test_only_the_home_region_registers_servers(self, synthesized):
        other = synthesized["single-account"].template_json("solo-baseline-sandbox-us-west-2")
        assert not resources(other, "Custom::SsmHybridActivation")


class TestOrganization:
    def test_stackset_gates_everything_to_the_registering_account(self, synthesized):
        template = synthesized["example"].stackset_template()
        assert template["Conditions"]["OnPremisesInshopprod"] == {
            "Fn::And": [{"Condition": "IsHomeRegion"}, {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "444444444444"]}]
        }
        on_premises = {k: r for k, r in template["Resources"].items() if k.startswith("OnPremises")}
        assert len(resources(template, "Custom::SsmHybridActivation")) == 2
        assert on_premises and all(r.get("Condition") == "OnPremisesInshopprod" for r in on_premises.values())
        assert "Outputs" not in template or not any(k.startswith("OnPremises") for k in template["Outputs"])

    def test_associations_target_hybrid_nodes_and_ec2_instances(self, synthesized):
        stackset = synthesized["example"].stackset_template()
        hybrid = [r["Properties"] for r in resources(stackset, "AWS::SSM::Association").values()]
        hybrid_targets = {a["Targets"][0]["Values"][0] for a in hybrid if "onprem" in a["AssociationName"]}
        assert hybrid_targets == {"on-premises-linux", "on-premises-windows"}
        assert {a["Parameters"]["mode"][0] for a in hybrid if a["Name"] == "AmazonCloudWatch-ManageAgent"} == {
            "onPremise"
        }
        workload = synthesized["example"].template_json("acme-example-workload")
        (configure,) = [
            r["Properties"]
            for r in resources(workload, "AWS::SSM::Association").values()
            if r["Properties"]["Name"] == "AmazonCloudWatch-ManageAgent"
        ]
        assert configure["Parameters"]["mode"] == ["ec2"]
        assert configure["Targets"] == [{"Key": "tag:monitoring", "Values": ["cloudwatch-agent"]}]

    def test_the_management_account_gets_them_in_its_own_home_region_stack(self, tmp_path):
        data = load("example")
        data["telemetry"] = {"on_premises": {"enabled": True, "account": "management", "platforms": ["windows"]}}
        synth = synthesize(parse_config(data), tmp_path, compliance=False)
        home = synth.template_json("acme-baseline-management-eu-west-1")
        (activation,) = resources(home, "Custom::SsmHybridActivation").values()
        assert activation["Properties"]["Tags"] == {"CloudWatchAgent": "on-premises-windows"}
        assert "Condition" not in activation
        assert not resources(synth.template_json("acme-baseline-management-us-east-1"), "Custom::SsmHybridActivation")
        stackset = synth.stackset_template()
        assert not resources(stackset, "Custom::SsmHybridActivation")
        assert not any(k.startswith("OnPremises") for k in stackset.get("Conditions", {}))

    def test_the_example_instance_uses_detailed_monitoring(self, synthesized):
        workload = synthesized["example"].template_json("acme-example-workload")
        (instance,) = resources(workload, "AWS::EC2::Instance").values()
        assert instance["Properties"]["Monitoring"] is True


class TestNoSecretInCdkOut:
    def test_the_scanner_finds_an_activation_code(self):
        code = "Ab3+dE5fGh7/jK9mNp1Q"
        assert code_shaped(json.dumps({"Outputs": {"Code": {"Value": code}}})) == [code]
        inline = {"Code": {"ZipFile": f'import boto3\nCODE = "{code}"\n'}}
        assert code_shaped(json.dumps(inline)) == [code]
        assert code_shaped(f"code='{code}'") == [code]
        assert code_shaped(json.dumps({"Ref": "OnPremisesActivationlinuxSecretD4E3A0F1"})) == []
        assert (
            code_shaped(json.dumps({"path": "Stack/Config/1/ConfigRecorderName", "ec2SumTImeoutEnabled": True})) == []
        )

    @pytest.mark.parametrize("name", ["example", "single-account"])
    def test_no_synthesized_file_holds_anything_shaped_like_an_activation_code(self, synthesized, name):
        outdir: Path = synthesized[name].outdir
        files = [p for p in outdir.rglob("*") if p.is_file()]
        assert any(p.name.endswith(".template.json") for p in files)
        found = {str(p.relative_to(outdir)): code_shaped(p.read_text(errors="ignore")) for p in files}
        assert {k: v for k, v in found.items() if v} == {}

    def test_no_output_or_custom_resource_carries_the_code(self, synthesized: dict[str, Synthesized]):
        for synth in synthesized.values():
            for path in synth.outdir.glob("*.template.json"):
                template = json.loads(path.read_text())
                assert "ActivationCode" not in json.dumps(template.get("Outputs", {}))
                for resource in resources(template, "Custom::SsmHybridActivation").values():
                    assert "ActivationCode" not in json.dumps(resource)
