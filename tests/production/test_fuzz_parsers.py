"""Fuzzing the parsers that take a whole document from a caller: the API's JSON body parser and
the OTIO import. Whatever arrives (deep or wide nesting, broken text, extreme numbers, a valid
.otio file with any value swapped for a hostile one), the answer is the contract's JSON error or
a success: never a 5xx, never a crashed process (OTIO's reader segfaults on deep nesting).

Bounded for CI: a fixed number of examples with a fixed seed (`derandomize`), no deadline;
about 20 s together. The schemathesis spec (test_api_schema.py) covers every endpoint more
shallowly; these go deep into the two parsers."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import opentimelineio as otio
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentimelineio.opentime import RationalTime, TimeRange
from rest_framework.test import APIClient

from projects.models import Project
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALLOWED = {200, 400, 401, 409, 413, 415, 429}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=40,
)


def nest(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"k": value}
    return value


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def assert_contract(response: Any) -> None:
    assert response.status_code in ALLOWED, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["message"]


@pytest.mark.django_db
@FUZZ
@given(
    value=json_values,
    extra_depth=st.integers(min_value=0, max_value=60),
    as_list=st.booleans(),
)
def test_json_bodies_of_any_shape_answer_the_contract(
    value: Any, extra_depth: int, as_list: bool, api: APIClient
) -> None:
    document = {"preferences": nest(value, extra_depth, as_list)}

    response = api.patch("/api/auth/me", document, format="json")

    assert_contract(response)
    if depth_of(document) > 32:
        assert response.status_code == 400
        assert response.json()["error"]["details"]["max_depth"] == 32


@pytest.mark.django_db
@FUZZ
@given(
    text=st.one_of(
        st.binary(max_size=200),
        st.text(alphabet='{}[]":,0123456789.eE-+ntrufalsNIiy\\', max_size=300),
        st.integers(min_value=1, max_value=200_000).map(lambda n: "[" * n),
        st.integers(min_value=1, max_value=200_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    )
)
def test_broken_and_deep_json_text_before_sign_in_answers_the_contract(
    text: str | bytes, anon_api: APIClient
) -> None:
    response = anon_api.post("/api/auth/login", text, content_type="application/json")

    assert_contract(response)
    assert response.status_code in (400, 401, 429)


# --- OTIO import ------------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.sampled_from(
        [0, -1, 0.0, -0.0, 1e308, -1e308, 2**63, -(2**63), 1e-320, "", "x", None, True, [], {}]
    ),
    st.just(math.nan),
    st.just(math.inf),
    st.integers(min_value=1, max_value=40).map(lambda d: nest(1, d, False)),
    json_values,
)


def valid_document(clip: Any) -> dict[str, Any]:
    timeline = otio.schema.Timeline(name="Fuzzed")
    video = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
    for track in (video, audio):
        for start in (0, 24):
            item = otio.schema.Clip(
                name=clip.name,
                media_reference=otio.schema.ExternalReference(target_url=f"clipseq:clip/{clip.pk}"),
                source_range=TimeRange(RationalTime(start, 24), RationalTime(48, 24)),
            )
            item.metadata["clip_sequencer"] = {"clip_id": str(clip.pk)}
            track.append(item)
        track.append(otio.schema.Gap(source_range=TimeRange(duration=RationalTime(12, 24))))
    timeline.tracks.extend([video, audio])
    return json.loads(otio.adapters.write_to_string(timeline, "otio_json"))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


@pytest.fixture
def otio_project(owner: Any) -> tuple[Project, dict[str, Any]]:
    project = make_project(owner, name="Fuzz target")
    clip = make_clip(project, "beach.mp4", duration="20.000")
    return project, valid_document(clip)


@pytest.mark.django_db
@FUZZ
@given(data=st.data(), as_file=st.booleans())
def test_a_valid_otio_file_with_any_value_swapped_never_breaks_the_import(
    data: st.DataObject,
    as_file: bool,
    api: APIClient,
    otio_project: tuple[Project, dict[str, Any]],
) -> None:
    project, document = otio_project
    mutated = document
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        path = data.draw(st.sampled_from(paths(mutated)), label="path")
        mutated = replaced(mutated, path, data.draw(HOSTILE, label="value"))
    # NaN and Infinity are written as JSON's common extension, as OTIO itself writes them.
    text = json.dumps(mutated)
    url = f"/api/projects/{project.pk}/timeline/import-otio"

    # Each example starts from the empty timeline: what one import saved is rolled back.
    with transaction.atomic():
        if as_file:
            upload = io.BytesIO(text.encode())
            upload.name = "fuzzed.otio"
            response = api.post(url, {"file": upload}, format="multipart")
        else:
            response = api.post(url, text, content_type="application/json")

        assert_contract(response)
        project.refresh_from_db()
        segments = TimelineSegment.objects.filter(project=project)
        if response.status_code == 200:
            assert len(response.json()["segments"]) == segments.count()
            assert project.total_duration <= 43200
        else:
            assert project.timeline_version == 0
            assert not segments.exists()
        transaction.set_rollback(True)
