"""The committed contract files: no drift from the code, a sound AsyncAPI document, every topic in it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from schemas import ErrorType
from streams.admin.contract import (
    ASYNCAPI_FILE,
    MODELS,
    SCHEMAS_DIR,
    contract_drift,
    error_type_table,
    export_contract,
    json_schema_path,
)
from streams.cli.contract import contract_group
from streams.config import Settings
from streams.topics import REGISTRY

DEFAULTS = Settings.model_construct()


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def asyncapi() -> dict[str, Any]:
    document = load(SCHEMAS_DIR / ASYNCAPI_FILE)
    assert isinstance(document, dict)
    return document


def pointer(document: Any, fragment: str) -> Any:
    """Resolve a JSON Pointer (RFC 6901) fragment such as ``/channels/news.alerts.v1``."""
    node = document
    for raw in fragment.lstrip("/").split("/") if fragment.strip("/") else []:
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def refs(node: Any) -> list[str]:
    """Every ``$ref`` value anywhere in a document."""
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                found.append(item["$ref"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


# --- no drift ----------------------------------------------------------------------------------


def test_committed_files_match_the_code() -> None:
    assert contract_drift() == []
    result = CliRunner().invoke(contract_group, ["check"])
    assert result.exit_code == 0, result.output


def test_check_fails_on_a_stale_or_missing_file(tmp_path: Path) -> None:
    export_contract(tmp_path)
    runner = CliRunner()
    assert runner.invoke(contract_group, ["check", "--dir", str(tmp_path)]).exit_code == 0
    stale = tmp_path / json_schema_path(MODELS[0])
    stale.write_text(stale.read_text().replace('"id"', '"identifier"'), encoding="utf-8")
    (tmp_path / ASYNCAPI_FILE).unlink()
    result = runner.invoke(contract_group, ["check", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert str(stale) in result.output
    assert ASYNCAPI_FILE in result.output


def test_export_writes_what_check_expects(tmp_path: Path) -> None:
    result = CliRunner().invoke(contract_group, ["export", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert contract_drift(tmp_path) == []
    assert sorted(p.name for p in (tmp_path / "json").iterdir()) == sorted(
        f"{m.__name__}.json" for m in MODELS
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_json_schema_files_are_valid_schemas(model: type) -> None:
    schema = load(SCHEMAS_DIR / json_schema_path(model))
    validator = jsonschema.validators.validator_for(schema)
    assert validator is jsonschema.Draft7Validator
    validator.check_schema(schema)


# --- the AsyncAPI document ---------------------------------------------------------------------


def test_asyncapi_declares_version_3() -> None:
    document = asyncapi()
    assert str(document["asyncapi"]).startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"]


def test_asyncapi_is_valid_against_the_specification_model() -> None:
    # asyncapi3: pydantic models of the AsyncAPI 3.0 specification and its Kafka bindings 0.5.0,
    # strict about unknown fields, so a misspelt binding or field fails here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its own field-shadowing warnings
        from asyncapi3.models import AsyncAPI3

    document = asyncapi()
    parsed = AsyncAPI3.model_validate(document)
    for channel_id, channel in document["channels"].items():
        kafka = parsed.channels[channel_id].bindings.kafka
        assert kafka.topic == channel["address"]
        assert (
            kafka.topic_configuration.retention_ms
            == channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"]
        )
    broken = asyncapi()
    next(iter(broken["operations"].values()))["action"] = "publish"  # the AsyncAPI 2 verb
    with pytest.raises(ValueError, match="send"):
        AsyncAPI3.model_validate(broken)


def test_every_ref_resolves() -> None:
    """Walk the document and every file it refers to; every reference must land on something."""
    seen: set[tuple[Path, str]] = set()
    pending = [(SCHEMAS_DIR / ASYNCAPI_FILE, ref) for ref in refs(asyncapi())]
    resolved = 0
    while pending:
        base, ref = pending.pop()
        location, _, fragment = ref.partition("#")
        target_file = (base.parent / location).resolve() if location else base
        if (target_file, fragment) in seen:
            continue
        seen.add((target_file, fragment))
        assert target_file.is_file(), f"{ref} (from {base.name}): no file {target_file}"
        document = load(target_file)
        try:
            target = pointer(document, fragment)
        except (KeyError, IndexError, ValueError) as exc:
            pytest.fail(f"{ref} (from {base.name}) does not resolve: {exc!r}")
        assert target is not None
        resolved += 1
        if location:  # a newly reached file: follow its references too, relative to it
            pending.extend((target_file, r) for r in refs(document))
    # channels -> messages, operations -> channels and messages, payloads -> files -> definitions
    assert resolved >= 4 * 4
    assert {path.name for path, _ in seen} >= {f"{m.__name__}.json" for m in MODELS}


def test_every_registry_topic_is_a_channel_with_its_bindings() -> None:
    document = asyncapi()
    by_address = {channel["address"]: channel for channel in document["channels"].values()}
    assert set(by_address) == {spec.full_name("") for spec in REGISTRY}
    for spec in REGISTRY:
        channel = by_address[spec.full_name("")]
        binding = channel["bindings"]["kafka"]
        config = spec.config(DEFAULTS)
        assert binding["topic"] == spec.name
        assert binding["partitions"] == DEFAULTS.partitions
        assert binding["replicas"] == DEFAULTS.replication
        assert binding["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy]
        assert binding["topicConfiguration"]["retention.ms"] == spec.retention_ms
        assert {
            k: str(v if not isinstance(v, list) else ",".join(v))
            for k, v in binding["topicConfiguration"].items()
        } == config
        (message_ref,) = (m["$ref"] for m in channel["messages"].values())
        message = pointer(document, message_ref.removeprefix("#"))
        assert message["payload"]["schema"]["$ref"] == f"./{json_schema_path(spec.value_schema)}"
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        assert message["contentType"] == "application/json"


def test_operations_say_what_flashpoint_receives_and_sends() -> None:
    document = asyncapi()
    actions = {}
    for operation in document["operations"].values():
        channel = pointer(document, operation["channel"]["$ref"].removeprefix("#"))
        actions[channel["address"]] = operation["action"]
    expected = {spec.name: ("receive" if spec.role == "input" else "send") for spec in REGISTRY}
    assert actions == expected


def test_dead_letter_message_documents_the_error_types() -> None:
    description = asyncapi()["components"]["messages"]["DeadLetter"]["description"]
    for error_type in ErrorType:
        assert f"- `{error_type}`: {error_type.description}" in description


def test_consumer_docs_name_every_topic_and_error_type() -> None:
    docs = (SCHEMAS_DIR.parent / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    for spec in REGISTRY:
        assert f"`{spec.name}`" in docs
    # The table is the registry's, verbatim: a new or reworded error type must be copied there.
    assert error_type_table() in docs, f"docs/CONTRACT.md must hold this table:\n{error_type_table()}"
