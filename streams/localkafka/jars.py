"""The broker's classpath: the Maven pom that declares it, the jar cache, and java and mvn on the machine.

:data:`BROKER_POM` is the one place that says where the pom is. It pins the Kafka version and the
runtime dependencies (one SLF4J 1.7 binding for log4j2). ``mvn`` fetches them once into the user
cache, under a directory named by the version and a hash of the pom, so a changed pom never reuses
an old classpath.

This module reads ``JAVA_HOME`` and ``PATH`` from the environment: they describe the machine, not
Flashpoint's configuration, so they are not part of :class:`streams.config.Settings`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import platformdirs

from streams.localkafka.errors import KafkaLauncherError
from streams.localkafka.process import tail_text

#: The Maven pom that declares the broker's runtime classpath. It lives in the source checkout
#: (``deploy/kafka/pom.xml``), so the launcher runs from a checkout, not from an installed wheel.
BROKER_POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
#: How long ``mvn`` may take to fetch the jars on a cold cache.
FETCH_TIMEOUT_S = 900.0


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when ``JAVA_HOME`` is set, else ``java`` on ``PATH``."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
        raise KafkaLauncherError(
            f"JAVA_HOME={java_home} has no bin/java: point JAVA_HOME at a Java 17+ JDK, or unset it"
        )
    found = shutil.which("java")
    if not found:
        raise KafkaLauncherError(
            "java not found on PATH: install Java 17+ (e.g. apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    return found


def find_mvn() -> str:
    """``mvn`` on ``PATH``."""
    found = shutil.which("mvn")
    if not found:
        raise KafkaLauncherError(
            "mvn not found on PATH: install Apache Maven (e.g. apt-get install maven); "
            "it fetches the Kafka jars once"
        )
    return found


def cache_root() -> Path:
    """Where the broker jars are cached: ``user_cache_dir("flashpoint")/kafka``."""
    return Path(platformdirs.user_cache_dir("flashpoint")) / "kafka"


def kafka_version(pom: Path = BROKER_POM) -> str:
    """The Kafka version the pom pins (``<kafka.version>``)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if not match:
        raise KafkaLauncherError(f"{pom} declares no <kafka.version>")
    return match.group(1).strip()


def jar_cache_dir(pom: Path = BROKER_POM) -> Path:
    """``<cache>/kafka/<version>/<pom hash>/libs``: a changed pom never reuses an old classpath."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    return cache_root() / kafka_version(pom) / digest / "libs"


def ensure_jars(pom: Path = BROKER_POM) -> Path:
    """The directory of the broker's jars, fetched with ``mvn`` on first use.

    The fetch goes to a temporary sibling directory that is renamed into place only when ``mvn``
    succeeded and the classpath looks right, so an interrupted fetch never leaves a half cache.
    """
    if not pom.is_file():
        raise KafkaLauncherError(f"{pom} not found: run the launcher from a Flashpoint source checkout")
    libs = jar_cache_dir(pom)
    if libs.is_dir():
        return libs
    mvn = find_mvn()
    version_dir = libs.parent.parent
    version_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{libs.parent.name}-", dir=version_dir))
    try:
        staging_libs = staging / "libs"
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging_libs}",
        ]
        # A cold fetch takes minutes: say so on stderr whether or not the caller configured logging.
        notice = f"Fetching the Kafka {kafka_version(pom)} jars with mvn (once) ..."
        print(notice, file=sys.stderr, flush=True)
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S, check=False, cwd=staging
            )
        except subprocess.TimeoutExpired as exc:
            raise KafkaLauncherError(f"mvn did not finish in {FETCH_TIMEOUT_S:.0f} s") from exc
        if proc.returncode != 0:
            tail = tail_text((proc.stdout + proc.stderr).splitlines(), 15)
            raise KafkaLauncherError(f"mvn failed to fetch the Kafka jars (exit {proc.returncode}):\n{tail}")
        _check_classpath(staging_libs, kafka_version(pom))
        try:
            staging.rename(libs.parent)
        except OSError:
            # Another process finished the same fetch first; its copy is as good as ours.
            if not libs.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return libs


def _check_classpath(libs: Path, version: str) -> None:
    """The broker jar and exactly one SLF4J 1.7 binding must be there, or the broker logs nothing."""
    names = {p.name for p in libs.glob("*.jar")}
    problems = []
    if f"kafka_2.13-{version}.jar" not in names:
        problems.append(f"kafka_2.13-{version}.jar is missing")
    if not any(n.startswith("log4j-slf4j-impl-") for n in names):
        problems.append("log4j-slf4j-impl is missing (the broker would log nothing)")
    bad = sorted(n for n in names if n.startswith(("slf4j-api-2.", "log4j-slf4j2-impl", "slf4j-reload4j")))
    if bad:
        problems.append(f"conflicting SLF4J jars: {', '.join(bad)}")
    if problems:
        raise KafkaLauncherError(f"unexpected Kafka classpath in {libs}: {'; '.join(problems)}")
