"""The story stage and ``flashpoint cluster``: copies join their original's story, placements
are stable per article id, and the command writes one line per input line, in order."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from schemas import Article
from streams.cli.cluster import cluster_command
from streams.pipeline.stories import StoryStage, StoryStageState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

DAM = (
    "Engineers in the river town of Veldmark opened the spillway of the Orsova dam on Monday after "
    "three days of rain pushed the reservoir to a record level. The regional governor, Ilse Brandauer, "
    "ordered 4,200 residents of the lower valley to leave their homes by nightfall and opened two "
    "schools in Kessenich as shelters. Army trucks carried the elderly out of the flooded quarter."
)
FESTIVAL = (
    "The Lantern Festival of Port Amsel drew a crowd of 60,000 to the harbour on Saturday night, the "
    "organisers said, as 300 paper boats were floated past the old customs house. The mayor, Tomas "
    "Ruyven, called it the biggest edition since the festival began in 1911."
)


def article(aid: str, body: str, *, hours: float = 0, url: str | None = None, version: int = 1) -> Article:
    return Article(
        id=aid,
        version=version,
        title="",
        body=body,
        url=url,
        published_at=T0 + timedelta(hours=hours),
    )


def test_a_reposted_copy_joins_its_originals_story_and_names_it() -> None:
    stage = StoryStage()
    first = stage.place(article("a1", DAM, url="https://www.riverpost.example/dam"), T0)
    copy = stage.place(article("a2", DAM.replace("Monday", "Monday morning"), hours=2), T0)
    other = stage.place(article("a3", FESTIVAL, hours=3), T0)
    assert first.new_story
    assert first.duplicate_of is None
    assert copy.story_id == first.story_id
    assert copy.duplicate_of == "a1"
    assert not copy.new_story
    assert other.story_id != first.story_id


def test_a_redelivered_or_edited_article_keeps_its_placement() -> None:
    stage = StoryStage()
    first = stage.place(article("a1", DAM), T0)
    stage.place(article("a3", FESTIVAL, hours=1), T0)
    again = stage.place(article("a1", FESTIVAL, version=2, hours=2), T0)
    assert again == first


def test_publisher_families_count_independent_reports() -> None:
    stage = StoryStage()
    urls = [
        "https://www.bbc.co.uk/news/dam",
        "https://www.bbc.com/news/dam-2",
        "https://www.riverpost.example/dam",
    ]
    placements = [stage.place(article(f"a{i}", DAM, hours=i, url=u), T0) for i, u in enumerate(urls)]
    story = placements[0].story_id
    assert {p.story_id for p in placements} == {story}
    assert stage.independent_publishers(story) == 2  # two BBC domains are one family


def test_the_state_round_trips_and_the_stage_resumes_with_it() -> None:
    stage = StoryStage()
    first = stage.place(article("a1", DAM), T0)
    restored = StoryStage(state=StoryStageState.model_validate_json(stage.state.model_dump_json()))
    later = restored.place(article("a9", DAM.replace("Army trucks", "Buses"), hours=5), T0)
    assert later.story_id == first.story_id
    assert later.duplicate_of == "a1"


def test_cluster_command_writes_one_line_per_input_line_in_order() -> None:
    lines = [
        article("a1", DAM).model_dump_json(),
        "{not json",
        article("a2", FESTIVAL, hours=1).model_dump_json(),
        article("a3", DAM, hours=2).model_dump_json(),
    ]
    result = CliRunner().invoke(cluster_command, ["-"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in io.StringIO(result.stdout) if line.strip()]
    assert [row.get("article_id") for row in out] == ["a1", None, "a2", "a3"]
    assert out[1]["line"] == 2
    assert out[1]["error"]["type"] == "invalid_json"
    assert out[3]["story_id"] == out[0]["story_id"] != out[2]["story_id"]
    assert out[3]["duplicate_of"] == "a1"
