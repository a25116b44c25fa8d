"""The published contract files, generated from the code (``flashpoint contract export|check``).

:func:`export_contract` writes one JSON Schema per event model under ``schemas/json/`` and an
AsyncAPI 3.0 document, ``schemas/asyncapi.yaml``, built from the topic registry (every topic a
channel, with its key, value schema and Kafka bindings). :func:`contract_drift` lists the
committed files that differ from what export would write, so a model change that is not
re-exported fails CI. :func:`error_type_table` is the dead-letter reasons table of
docs/CONTRACT.md, which a test holds to the registry.

The JSON Schemas are draft-07 (``definitions`` rather than ``$defs``): AsyncAPI's default schema
format is a draft-07 superset, and draft-07 is the dialect most validators in other languages read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel

import schemas
from schemas import SCHEMA_VERSION, Alert, Article, ClassifiedArticle, DeadLetter, ErrorType, StoryInput
from streams.config import LOCAL_BROKER_PORT, Settings
from streams.topics import REGISTRY, TopicSpec

#: The directory of the ``schemas`` package: the contract files live beside the models.
SCHEMAS_DIR: Final = Path(schemas.__file__).resolve().parent
#: The models published as JSON Schema files, one ``json/<Model>.json`` each.
MODELS: Final[tuple[type[BaseModel], ...]] = (Article, ClassifiedArticle, Alert, DeadLetter, StoryInput)
ASYNCAPI_FILE: Final = "asyncapi.yaml"
JSON_DIR: Final = "json"

JSON_SCHEMA_DIALECT: Final = "http://json-schema.org/draft-07/schema#"
ASYNCAPI_VERSION: Final = "3.0.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
SCHEMA_FORMAT: Final = "application/schema+json;version=draft-07"


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema (pydantic's validation schema) as a draft-07 document."""
    generated = model.model_json_schema(ref_template="#/definitions/{model}")
    document: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT}
    definitions = generated.pop("$defs", None)
    document.update(generated)
    if definitions is not None:
        document["definitions"] = definitions
    return document


def json_schema_path(model: type[BaseModel]) -> str:
    """Where a model's schema lives, relative to the ``schemas`` directory."""
    return f"{JSON_DIR}/{model.__name__}.json"


@dataclass(frozen=True)
class _Channel:
    spec: TopicSpec[Any]
    message_name: str
    action: str


def _channels() -> list[_Channel]:
    return [
        _Channel(
            spec=spec,
            message_name=spec.value_schema.__name__,
            action="receive" if spec.role == "input" else "send",
        )
        for spec in REGISTRY
    ]


def _registry_settings() -> Settings:
    """Settings at their defaults, never the environment: the document must not depend on it."""
    return Settings.model_construct()


def _topic_configuration(spec: TopicSpec[Any], settings: Settings) -> dict[str, Any]:
    config = spec.config(settings)
    out: dict[str, Any] = {"cleanup.policy": config["cleanup.policy"].split(",")}
    for key in ("retention.ms", "max.message.bytes"):
        if key in config:
            out[key] = int(config[key])
    return out


def _message(channel: _Channel) -> dict[str, Any]:
    spec = channel.spec
    model = spec.value_schema
    description = (model.__doc__ or "").strip()
    if model is DeadLetter:
        description += "\n\nerror_type values:\n" + "\n".join(
            f"- `{error_type}`: {error_type.description}" for error_type in ErrorType
        )
        description += (
            "\n\nNew values may be added without a new topic version; treat an unknown "
            "error_type as a generic failure."
        )
    return {
        "name": channel.message_name,
        "title": channel.message_name,
        "summary": spec.description,
        "description": description,
        "contentType": "application/json",
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": f"./{json_schema_path(model)}"}},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": spec.key_description},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every registry topic, as a plain dict."""
    settings = _registry_settings()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for channel in _channels():
        spec = channel.spec
        # Ids keep to letters, digits, '-' and '_', which every AsyncAPI tool accepts as a key.
        channel_id = re.sub(r"[^A-Za-z0-9_-]", "_", spec.name)
        messages[channel.message_name] = _message(channel)
        channels[channel_id] = {
            "address": spec.name,
            "title": spec.name,
            "description": (
                f"{spec.description} Key: {spec.key_description}. "
                "Deployments may prefix the name (FLASHPOINT_TOPIC_PREFIX, e.g. 'staging.')."
            ),
            "messages": {channel.message_name: {"$ref": f"#/components/messages/{channel.message_name}"}},
            "bindings": {
                "kafka": {
                    "topic": spec.name,
                    "partitions": settings.partitions,
                    "replicas": settings.replication,
                    "topicConfiguration": _topic_configuration(spec, settings),
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        verb = "Flashpoint reads" if channel.action == "receive" else "Flashpoint writes"
        operation_id = f"{channel.action}{channel.message_name}"
        if operation_id in operations:  # one message on two channels (alerts and their state)
            operation_id = f"{operation_id}_{channel_id}"
        operations[operation_id] = {
            "action": channel.action,
            "title": f"{verb} {spec.name}",
            "summary": spec.description,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{channel.message_name}"}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Flashpoint",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "Escalation signals classified from a stream of news articles. Flashpoint reads "
                "Article events (published or withdrawn), groups them into stories and writes one "
                "ClassifiedArticle per published article, the versions of each story's Alert "
                "(created, updated, retracted; the latest per alert on a compacted topic) and a "
                "DeadLetter per input it cannot process. Every event is JSON; see "
                "docs/CONTRACT.md for keys, ordering, delivery and versioning guarantees. "
                "Generated by `flashpoint contract export`: do not edit."
            ),
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": f"127.0.0.1:{LOCAL_BROKER_PORT}",
                "protocol": "kafka",
                "description": "The single-node broker of `flashpoint kafka up`.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render_contract() -> dict[str, str]:
    """Every contract file's text, by path relative to the ``schemas`` directory."""
    files = {
        json_schema_path(model): json.dumps(json_schema(model), indent=2, ensure_ascii=False) + "\n"
        for model in MODELS
    }
    header = "# Generated by `flashpoint contract export` from streams/topics.py and schemas/: do not edit.\n"
    files[ASYNCAPI_FILE] = header + yaml.safe_dump(
        asyncapi_document(), sort_keys=False, allow_unicode=True, width=100
    )
    return files


def export_contract(directory: Path = SCHEMAS_DIR) -> list[Path]:
    """Write every contract file under ``directory``; the paths written."""
    written = []
    for relative, text in render_contract().items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def contract_drift(directory: Path = SCHEMAS_DIR) -> list[Path]:
    """The contract files under ``directory`` that are missing or differ from ``export``'s."""
    drifted = []
    for relative, text in render_contract().items():
        path = directory / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            drifted.append(path)
    return drifted


def error_type_table() -> str:
    """The Markdown table of every dead-letter ``error_type`` and its meaning (docs/CONTRACT.md)."""
    rows = ["| error_type | meaning |", "| --- | --- |"]
    rows += [f"| `{error_type}` | {error_type.description} |" for error_type in ErrorType]
    return "\n".join(rows) + "\n"
