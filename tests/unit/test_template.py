"""The SAM template: cfn-lint clean, least privilege, channel time limits, fresh bot.

The checks read ``template.yaml`` with a loader that turns CloudFormation's
short tags (``!Ref``, ``!Sub``...) into their long form, so they see the same
document CloudFormation does. Each check is a function that returns what it
found wrong, and each is also run on a small bad template, so it can fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from lexbot.cloudformation import (
    BOT,
    BOT_ALIAS,
    BOT_VERSION_PREFIX,
    FULFILLMENT_FUNCTION,
    bot_resources,
    is_current,
    splice,
)
from lexbot.definition import load_bot_definition

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

# The longest a channel waits for the function (LEX_CONNECT_FORMATS 2.6, 3.3).
CHANNEL_LIMITS = {
    "entrypoints.connect_lambda.handler": ("CONNECT_BUDGET_SECONDS", 8),
    "entrypoints.lex_lambda.handler": ("LEX_BUDGET_SECONDS", 30),
}
SAM_DEFAULT_TIMEOUT = 3

# Actions AWS authorises only on "*" for this use: Polly checks a lexicon ARN
# only when the request names a lexicon, and the bot names none.
ONLY_ON_STAR = frozenset({"polly:SynthesizeSpeech"})

POLICY_RESOURCES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
)


# ------------------------------------------------------------------- reading


class CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads `!Ref x` as {"Ref": x}, `!Sub s` as {"Fn::Sub": s}..."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _short_tag)


def read_template() -> dict[str, Any]:
    # A subclass of SafeLoader: it builds plain dicts, lists and strings only.
    document = yaml.load(
        TEMPLATE.read_text(encoding="utf-8"), Loader=CloudFormationLoader
    )
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return read_template()


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == kind
    }


# ------------------------------------------------------------------ checking


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _listed(document.get("Statement", [])) if isinstance(s, dict)]


def _is_root_admin(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal", {})
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    text = json.dumps(aws)
    return ":root" in text and statement.get("Effect") == "Allow"


def policy_statements(
    template: dict[str, Any],
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every statement as (where, kind, statement); kind is iam, trust or key."""
    for name, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        props = resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            for statement in _statements(props.get("AssumeRolePolicyDocument")):
                yield name, "trust", statement
            for policy in props.get("Policies", []):
                for statement in _statements(policy.get("PolicyDocument")):
                    yield f"{name}.{policy.get('PolicyName')}", "iam", statement
        elif kind in POLICY_RESOURCES:
            for statement in _statements(props.get("PolicyDocument")):
                yield name, "iam", statement
        elif kind == "AWS::KMS::Key":
            for statement in _statements(props.get("KeyPolicy")):
                yield name, "key", statement
        elif kind == "AWS::Serverless::Function":
            for policy in _listed(props.get("Policies", [])):
                # A statement list written out is checked like any policy.
                for statement in _statements(policy):
                    yield f"{name}.Policies", "iam", statement


def wildcard_problems(template: dict[str, Any]) -> list[str]:
    """IAM that grants a wildcard action, or a "*" resource where a narrower exists."""
    problems = [
        f"{name}: SAM policy template or managed policy {policy!r} cannot be "
        "checked here (AWSLambdaBasicExecutionRole, for one, grants logs on '*'); "
        "write the statement out"
        for name, resource in resources_of(
            template, "AWS::Serverless::Function"
        ).items()
        for policy in _listed(resource.get("Properties", {}).get("Policies", []))
        if not (isinstance(policy, dict) and "Statement" in policy)
    ]
    for where, kind, statement in policy_statements(template):
        if kind == "key" and _is_root_admin(statement):
            continue  # the account administers its own key through IAM
        actions = [str(action) for action in _listed(statement.get("Action", []))]
        if "NotAction" in statement or any("*" in action for action in actions):
            problems.append(f"{where}: wildcard action {actions}")
        if kind == "trust":
            continue
        if "NotResource" in statement:
            problems.append(f"{where}: NotResource")
        # In a key policy "*" is the only resource there is: it means this key.
        star = "*" in _listed(statement.get("Resource", []))
        if star and kind == "iam" and not set(actions) <= ONLY_ON_STAR:
            problems.append(f"{where}: resource '*' for {actions}")
        if kind == "key" and json.dumps(statement.get("Principal")) in ('"*"', "null"):
            problems.append(f"{where}: key statement for any principal")
    return problems


def permission_problems(template: dict[str, Any]) -> list[str]:
    return [
        f"{name}: AWS::Lambda::Permission without SourceArn"
        for name, resource in resources_of(template, "AWS::Lambda::Permission").items()
        if not resource.get("Properties", {}).get("SourceArn")
    ]


def timeout_problems(template: dict[str, Any]) -> list[str]:
    """Functions that outlive their channel, or whose budget outlives them."""
    globals_ = template.get("Globals", {}).get("Function", {})
    problems = []
    for name, resource in resources_of(template, "AWS::Serverless::Function").items():
        props = resource.get("Properties", {})
        handler = props.get("Handler", globals_.get("Handler"))
        if handler not in CHANNEL_LIMITS:
            problems.append(f"{name}: handler {handler!r} has no known channel")
            continue
        budget_name, limit = CHANNEL_LIMITS[handler]
        timeout = props.get("Timeout", globals_.get("Timeout", SAM_DEFAULT_TIMEOUT))
        if not isinstance(timeout, int) or timeout > limit:
            problems.append(f"{name}: timeout {timeout} s above the {limit} s limit")
            continue
        variables = props.get("Environment", {}).get("Variables", {})
        budget = float(variables.get(budget_name, timeout))
        if budget >= timeout:
            problems.append(f"{name}: {budget_name} {budget} s leaves no margin")
    return problems


# ------------------------------------------------------------------ the tests


class TestCfnLint:
    def test_the_template_has_no_errors_or_warnings(self) -> None:
        from cfnlint.api import lint

        matches = lint(TEMPLATE.read_text(encoding="utf-8"), regions=["us-east-1"])

        assert [str(match) for match in matches] == []

    def test_cfn_lint_finds_a_broken_bot(self) -> None:
        from cfnlint.api import lint

        text = TEMPLATE.read_text(encoding="utf-8")
        broken = text.replace('CodeHookInterfaceVersion: "1.0"', "CodeHookVersion: 1")
        broken = broken.replace("CodeHookInterfaceVersion: '1.0'", "CodeHookVersion: 1")

        assert broken != text
        assert lint(broken, regions=["us-east-1"])


class TestStaleness:
    def test_the_committed_bot_matches_the_definition(self) -> None:
        text = TEMPLATE.read_text(encoding="utf-8")

        assert is_current(text, load_bot_definition()), "run `bankbot template`"

    def test_a_changed_definition_makes_the_template_stale(self) -> None:
        text = TEMPLATE.read_text(encoding="utf-8")
        changed = attrs.evolve(load_bot_definition(), idle_session_ttl_in_seconds=600)

        assert not is_current(text, changed)
        assert "IdleSessionTTLInSeconds: 600" in splice(text, changed)

    def test_the_template_holds_exactly_the_generated_bot(self, template) -> None:
        generated = bot_resources(load_bot_definition())
        lex = {
            name: resource
            for name, resource in template["Resources"].items()
            if resource["Type"].startswith("AWS::Lex::")
        }

        assert lex == generated

    def test_a_changed_bot_gets_a_new_version(self) -> None:
        definition = load_bot_definition()
        changed = attrs.evolve(definition, description="Something else.")

        def version(resources: dict[str, Any]) -> str:
            return next(
                name for name in resources if name.startswith(BOT_VERSION_PREFIX)
            )

        assert version(bot_resources(definition)) != version(bot_resources(changed))


class TestLeastPrivilege:
    def test_no_wildcard_actions_or_resources(self, template) -> None:
        assert wildcard_problems(template) == []

    def test_the_functions_read_exactly_the_two_parameters(self, template) -> None:
        ssm = [
            statement
            for _, kind, statement in policy_statements(template)
            if kind == "iam" and "ssm:" in str(statement["Action"])
        ]
        actions = {action for s in ssm for action in _listed(s["Action"])}
        resources = [r["Fn::Sub"] for s in ssm for r in _listed(s["Resource"])]

        # One GetParameters call reads both; GetParameter alone would be refused.
        assert actions == {"ssm:GetParameters"}
        assert sorted(resources) == sorted(
            f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}"
            f":parameter${{{name}}}"
            for name in ("BankApiKeyParameterName", "SigningKeyParameterName")
        )

    def test_parameter_names_must_start_with_a_slash(self, template) -> None:
        # The ARN is "parameter" + the name, so the name brings its own slash.
        for name in ("BankApiKeyParameterName", "SigningKeyParameterName"):
            pattern = template["Parameters"][name]["AllowedPattern"]

            assert re.fullmatch(pattern, "/bankbot/bank-api-key")
            assert not re.fullmatch(pattern, "bankbot-api-key")

    def test_kms_decrypt_only_on_the_key_and_only_through_ssm(self, template) -> None:
        decrypts = [
            (kind, statement)
            for _, kind, statement in policy_statements(template)
            if "kms:Decrypt" in _listed(statement["Action"])
        ]

        assert {kind for kind, _ in decrypts} == {"iam", "key"}
        for kind, statement in decrypts:
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert via == {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}
            if kind == "iam":
                assert statement["Resource"] == {"Fn::GetAtt": ["SecretsKey", "Arn"]}

    def test_every_lambda_permission_names_its_source(self, template) -> None:
        assert permission_problems(template) == []

    def test_lex_may_invoke_only_through_the_alias(self, template) -> None:
        permissions = resources_of(template, "AWS::Lambda::Permission")
        lex = [
            p["Properties"]
            for p in permissions.values()
            if p["Properties"]["Principal"] == "lexv2.amazonaws.com"
        ]

        assert lex == [
            {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": [FULFILLMENT_FUNCTION, "Arn"]},
                "Principal": "lexv2.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {"Fn::GetAtt": [BOT_ALIAS, "Arn"]},
            }
        ]


class TestTheChecksCanFail:
    """Each check, run on a tiny bad template, reports it."""

    @staticmethod
    def role(statement: dict[str, Any]) -> dict[str, Any]:
        document = {"Version": "2012-10-17", "Statement": [statement]}
        return {
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "Policies": [{"PolicyName": "p", "PolicyDocument": document}]
                    },
                }
            }
        }

    @pytest.mark.parametrize(
        ("action", "resource"),
        [
            ("ssm:*", "arn:aws:ssm:us-east-1:111122223333:parameter/x"),
            ("*", "arn:aws:ssm:us-east-1:111122223333:parameter/x"),
            ("ssm:Get*", "arn:aws:ssm:us-east-1:111122223333:parameter/x"),
            ("ssm:GetParameter", "*"),
            (["polly:SynthesizeSpeech", "kms:Decrypt"], "*"),
        ],
    )
    def test_a_wildcard_in_a_role_policy_is_reported(self, action, resource) -> None:
        bad = self.role({"Effect": "Allow", "Action": action, "Resource": resource})

        assert wildcard_problems(bad)

    def test_polly_on_star_alone_is_accepted(self) -> None:
        good = self.role(
            {"Effect": "Allow", "Action": "polly:SynthesizeSpeech", "Resource": "*"}
        )

        assert wildcard_problems(good) == []

    def test_a_wildcard_in_a_standalone_policy_is_reported(self) -> None:
        statement = {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ["*"]}
        bad = {
            "Resources": {
                "P": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {"PolicyDocument": {"Statement": statement}},
                }
            }
        }

        assert wildcard_problems(bad) == ["P: resource '*' for ['ssm:GetParameter']"]

    def test_a_sam_policy_template_is_reported(self) -> None:
        bad = {
            "Resources": {
                "F": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "Policies": [
                            "AWSLambdaBasicExecutionRole",
                            {"SSMParameterReadPolicy": {"ParameterName": "x"}},
                        ]
                    },
                }
            }
        }

        assert len(wildcard_problems(bad)) == 2

    def test_a_key_policy_wildcard_is_reported_except_the_root_admin(self) -> None:
        root = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
        role = {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": root,
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Principal": role,
                    "Action": "kms:*",
                    "Resource": "*",
                },
            ]
        }
        bad = {
            "Resources": {
                "K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy}}
            }
        }

        assert wildcard_problems(bad) == ["K: wildcard action ['kms:*']"]

    def test_a_permission_without_source_arn_is_reported(self) -> None:
        bad = {
            "Resources": {
                "Open": {
                    "Type": "AWS::Lambda::Permission",
                    "Properties": {"Principal": "lexv2.amazonaws.com"},
                }
            }
        }

        assert permission_problems(bad) == [
            "Open: AWS::Lambda::Permission without SourceArn"
        ]

    @pytest.mark.parametrize(
        ("handler", "timeout"),
        [
            ("entrypoints.connect_lambda.handler", 9),
            ("entrypoints.lex_lambda.handler", 31),
        ],
    )
    def test_a_timeout_above_the_channel_limit_is_reported(
        self, handler, timeout
    ) -> None:
        bad = {
            "Resources": {
                "F": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {"Handler": handler, "Timeout": timeout},
                }
            }
        }

        assert timeout_problems(bad) == [
            f"F: timeout {timeout} s above the {timeout - 1} s limit"
        ]

    def test_a_budget_as_long_as_the_timeout_is_reported(self) -> None:
        bad = {
            "Globals": {"Function": {"Timeout": 8}},
            "Resources": {
                "F": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "Handler": "entrypoints.connect_lambda.handler",
                        "Environment": {"Variables": {"CONNECT_BUDGET_SECONDS": "8"}},
                    },
                }
            },
        }

        assert timeout_problems(bad) == [
            "F: CONNECT_BUDGET_SECONDS 8.0 s leaves no margin"
        ]


class TestFunctions:
    def test_timeouts_fit_the_channels(self, template) -> None:
        assert timeout_problems(template) == []

    def test_both_functions_run_live_on_arm64_from_the_package(self, template) -> None:
        function = template["Globals"]["Function"]
        handlers = {
            resource["Properties"]["Handler"]
            for resource in resources_of(template, "AWS::Serverless::Function").values()
        }

        assert handlers == set(CHANNEL_LIMITS)
        assert function["Architectures"] == ["arm64"]
        assert function["Runtime"] in ("python3.12", "python3.13")
        assert function["CodeUri"] == "build/lambda/"
        assert function["Environment"]["Variables"]["BANKBOT_MODE"] == "live"

    def test_each_function_logs_to_its_own_group_with_retention(self, template) -> None:
        groups = resources_of(template, "AWS::Logs::LogGroup")
        for resource in resources_of(template, "AWS::Serverless::Function").values():
            group = resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

            assert "RetentionInDays" in groups[group]["Properties"]


@pytest.fixture(scope="module")
def bot(template) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][BOT]["Properties"]
    return properties


@pytest.fixture(scope="module")
def flow(template) -> dict[str, Any]:
    content = template["Resources"]["BankBotContactFlow"]["Properties"]["Content"]
    # Substitutions are ARNs inside JSON strings; any text stands in for them.
    text = re.sub(r"\$\{[^}]+\}", "arn:stand-in", content["Fn::Sub"])
    parsed: dict[str, Any] = json.loads(text)
    return parsed


class TestBot:
    def test_both_locales_have_a_fallback_intent(self, bot) -> None:
        locales = {locale["LocaleId"]: locale for locale in bot["BotLocales"]}

        assert set(locales) == {"en_US", "es_US"}
        for locale in locales.values():
            signatures = [i.get("ParentIntentSignature") for i in locale["Intents"]]
            assert "AMAZON.FallbackIntent" in signatures

    def test_card_digits_are_obfuscated_in_conversation_logs(self, bot) -> None:
        for locale in bot["BotLocales"]:
            slots = {
                slot["Name"]: slot
                for intent in locale["Intents"]
                for slot in intent.get("Slots", [])
            }
            setting = slots["CardLastFour"]["ObfuscationSetting"]

            assert setting == {"ObfuscationSettingType": "DefaultObfuscation"}

    def test_the_alias_calls_the_fulfillment_function_in_every_locale(
        self, template, bot
    ) -> None:
        alias = template["Resources"][BOT_ALIAS]["Properties"]
        settings = {s["LocaleId"]: s for s in alias["BotAliasLocaleSettings"]}

        assert set(settings) == {locale["LocaleId"] for locale in bot["BotLocales"]}
        for setting in settings.values():
            hook = setting["BotAliasLocaleSetting"]["CodeHookSpecification"]
            assert hook["LambdaCodeHook"] == {
                "CodeHookInterfaceVersion": "1.0",
                "LambdaArn": {"Fn::GetAtt": [FULFILLMENT_FUNCTION, "Arn"]},
            }


class TestContactFlow:
    def actions(self, flow: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {action["Identifier"]: action for action in flow["Actions"]}

    def test_every_transition_leads_to_an_action(self, flow) -> None:
        actions = self.actions(flow)
        targets = {flow["StartAction"]}
        for action in actions.values():
            transitions = action["Transitions"]
            targets.update(
                step["NextAction"]
                for step in [
                    transitions,
                    *transitions.get("Errors", []),
                    *transitions.get("Conditions", []),
                ]
                if "NextAction" in step
            )

        assert targets <= set(actions)
        assert len(actions) == len(flow["Actions"])

    def test_the_pin_goes_to_verify_caller(self, flow) -> None:
        actions = self.actions(flow).values()
        invoke = next(a for a in actions if a["Type"] == "InvokeLambdaFunction")
        stored = next(a for a in actions if a["Type"] == "GetParticipantInput")

        assert stored["Parameters"]["StoreInput"] == "True"
        assert invoke["Parameters"]["LambdaInvocationAttributes"] == {
            "operation": "VerifyCaller",
            "pin": "$.StoredCustomerInput",
        }
        assert int(invoke["Parameters"]["InvocationTimeLimitSeconds"]) <= 8

    def test_the_bot_gets_the_caller_and_escalation_reaches_a_queue(self, flow) -> None:
        actions = self.actions(flow)
        bot = next(
            a for a in actions.values() if a["Type"] == "ConnectParticipantWithLexBot"
        )
        escalate = actions[bot["Transitions"]["NextAction"]]
        queue = next(
            c["NextAction"]
            for c in escalate["Transitions"]["Conditions"]
            if c["Condition"]["Operands"] == ["true"]
        )

        assert set(bot["Parameters"]["LexSessionAttributes"]) == {
            "customerId",
            "authToken",
        }
        assert (
            escalate["Parameters"]["ComparisonValue"]
            == "$.Lex.SessionAttributes.escalate"
        )
        assert actions[queue]["Type"] == "UpdateContactTargetQueue"

    def test_the_connect_wiring_exists_only_with_an_instance(self, template) -> None:
        connect = [
            resource
            for resource in template["Resources"].values()
            if resource["Type"].startswith("AWS::Connect::")
            or resource.get("Properties", {}).get("Principal")
            == "connect.amazonaws.com"
        ]

        assert len(connect) == 4
        assert all(resource.get("Condition") == "HasConnect" for resource in connect)
