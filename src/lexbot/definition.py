"""The bot definition: `bankbot.yaml` read into frozen attrs classes.

The YAML keeps the Lex V2 model's names (camelCase, as in the Lex API), so the
deployment can turn it into an ``AWS::Lex::Bot`` without a second copy; the
classes here use Python names. `load_bot_definition` structures it with one
cattrs converter that refuses unknown keys, then checks what cattrs cannot:
placeholders naming real slots, slot types that exist, distinct priorities.
Every error names the file and the path of the bad field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

import cattrs
import yaml
from attrs import field, frozen
from cattrs.gen import make_dict_structure_fn, override

# The Lex V2 built-in slot types this bot may use (not every one Lex offers).
BUILT_IN_SLOT_TYPES: Final = frozenset(
    {
        "AMAZON.Number",
        "AMAZON.AlphaNumeric",
        "AMAZON.Date",
        "AMAZON.Time",
        "AMAZON.Confirmation",
        "AMAZON.FreeFormInput",
    }
)
FALLBACK_SIGNATURE: Final = "AMAZON.FallbackIntent"
PLACEHOLDER: Final = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")


class DefinitionError(ValueError):
    """The bot definition cannot be read; the message names file and field."""


@frozen
class SlotTypeValue:
    value: str
    synonyms: tuple[str, ...] = ()


@frozen
class SlotType:
    name: str
    description: str = ""
    values: tuple[SlotTypeValue, ...] = ()
    value_selection_strategy: str = "OriginalValue"
    parent_slot_type_signature: str | None = None
    regex_filter: str | None = None


@frozen
class ValueElicitation:
    prompt: str
    slot_constraint: str = "Required"
    max_retries: int = 2

    @property
    def required(self) -> bool:
        return self.slot_constraint == "Required"


@frozen
class Slot:
    name: str
    slot_type_name: str
    priority: int
    value_elicitation_setting: ValueElicitation
    obfuscation_setting: str = "None"

    @property
    def prompt(self) -> str:
        return self.value_elicitation_setting.prompt


@frozen
class Confirmation:
    prompt: str
    declination_response: str


@frozen
class CodeHook:
    enabled: bool = False


@frozen
class Intent:
    name: str
    description: str = ""
    parent_intent_signature: str | None = None
    sample_utterances: tuple[str, ...] = ()
    slots: tuple[Slot, ...] = ()
    intent_confirmation_setting: Confirmation | None = None
    dialog_code_hook: CodeHook = CodeHook()
    fulfillment_code_hook: CodeHook = CodeHook()

    @property
    def is_fallback(self) -> bool:
        return self.parent_intent_signature == FALLBACK_SIGNATURE

    def slots_by_priority(self) -> tuple[Slot, ...]:
        return tuple(sorted(self.slots, key=lambda slot: slot.priority))

    def slot(self, name: str) -> Slot | None:
        return next((slot for slot in self.slots if slot.name == name), None)


@frozen
class Locale:
    description: str = ""
    voice_id: str = ""
    nlu_confidence_threshold: float = 0.4
    slot_types: tuple[SlotType, ...] = ()
    intents: tuple[Intent, ...] = ()

    def intent(self, name: str) -> Intent | None:
        return next((intent for intent in self.intents if intent.name == name), None)

    def slot_type(self, name: str) -> SlotType | None:
        return next((kind for kind in self.slot_types if kind.name == name), None)

    @property
    def fallback(self) -> Intent:
        found = next((intent for intent in self.intents if intent.is_fallback), None)
        return found if found is not None else Intent("FallbackIntent")


def _locales(value: Mapping[str, Locale]) -> Mapping[str, Locale]:
    return dict(value)


@frozen
class BotDefinition:
    name: str
    locales: Mapping[str, Locale] = field(converter=_locales)
    description: str = ""
    idle_session_ttl_in_seconds: int = 300

    def locale(self, locale_id: str) -> Locale:
        try:
            return self.locales[locale_id]
        except KeyError:
            known = ", ".join(sorted(self.locales))
            raise DefinitionError(
                f"locale {locale_id!r} is not defined (defined: {known})"
            ) from None


def load_bot_definition(path: Path | str | None = None) -> BotDefinition:
    """Reads a bot definition; by default the packaged ``bankbot.yaml``."""
    if path is None:
        source = resources.files("lexbot").joinpath("bankbot.yaml")
        name, text = "bankbot.yaml", source.read_text(encoding="utf-8")
    else:
        name, text = str(path), Path(path).read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError(f"{name}: not valid YAML: {error}") from error

    try:
        definition = _CONVERTER.structure(raw, BotDefinition)
    except cattrs.BaseValidationError as error:
        reasons = "; ".join(cattrs.transform_error(error, path="$"))
        raise DefinitionError(f"{name}: {reasons}") from error
    except (TypeError, ValueError, AttributeError) as error:
        raise DefinitionError(f"{name}: $: {error}") from error

    problems = list(_problems(definition))
    if problems:
        raise DefinitionError(f"{name}: " + "; ".join(problems))
    return definition


def _problems(definition: BotDefinition) -> list[str]:
    """What the structure alone cannot refuse, each with its path."""
    found: list[str] = []
    for locale_id, locale in definition.locales.items():
        base = f"$.locales.{locale_id}"
        defined = {kind.name for kind in locale.slot_types}
        for i, intent in enumerate(locale.intents):
            at = f"{base}.intents[{i}]"
            names = {slot.name for slot in intent.slots}
            for j, slot in enumerate(intent.slots):
                kind = slot.slot_type_name
                if kind not in defined and kind not in BUILT_IN_SLOT_TYPES:
                    found.append(f"{at}.slots[{j}].slotTypeName: unknown type {kind}")
            priorities = [slot.priority for slot in intent.slots]
            if len(set(priorities)) != len(priorities):
                found.append(f"{at}.slots: two slots share a priority")
            for k, utterance in enumerate(intent.sample_utterances):
                for placeholder in PLACEHOLDER.findall(utterance):
                    if placeholder not in names:
                        found.append(
                            f"{at}.sampleUtterances[{k}]: no slot {placeholder}"
                        )
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Lex spells "TTL" in capitals; everything else is plain camelCase.
_SPECIAL: Final = {"idle_session_ttl_in_seconds": "idleSessionTTLInSeconds"}


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    classes: tuple[type, ...] = (
        SlotTypeValue,
        SlotType,
        ValueElicitation,
        Slot,
        Confirmation,
        CodeHook,
        Intent,
        Locale,
        BotDefinition,
    )
    for cls in classes:
        renames: dict[str, Any] = {
            attribute.name: override(
                rename=_SPECIAL.get(attribute.name, _camel(attribute.name))
            )
            for attribute in cls.__attrs_attrs__  # type: ignore[attr-defined]
            if "_" in attribute.name
        }
        converter.register_structure_hook(
            cls,
            make_dict_structure_fn(
                cls, converter, _cattrs_forbid_extra_keys=True, **renames
            ),
        )
    converter.register_structure_hook(str, _strict_str)
    return converter


def _strict_str(value: object, _: type) -> str:
    # YAML reads `yes`, `12` or `null` as other types: a prompt must be text.
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


_CONVERTER: Final = _make_converter()
