"""Model artifacts: protocol and sha256 checks before loading, allow-listed types, registry promote/rollback."""
import json
import shutil
from pathlib import Path

import pytest
import skops.io as sio

from nlp import registry
from nlp.analyzer import load_analyzer
from nlp.artifacts import ArtifactError, PROTOCOL, load_bundle, sha256_file

SHIPPED = registry.MODELS_DIR / registry.active_version()


@pytest.fixture()
def models(tmp_path) -> Path:
    """A models dir with two copies of the shipped version."""
    for name in ("v1", "v2"):
        shutil.copytree(SHIPPED, tmp_path / name)
    return tmp_path


def edit_meta(folder: Path, **changes) -> None:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta.update(changes)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def test_copy_loads(models):
    estimators, meta = load_bundle(models / "v1")
    assert meta["protocol"] == PROTOCOL and set(estimators) == {"vectorizer", "genre_vectorizer", "genre", "topic"}


def test_wrong_protocol_is_refused(models):
    edit_meta(models / "v1", protocol=PROTOCOL + 1)
    with pytest.raises(ArtifactError, match="protocol"):
        load_analyzer(models, "v1")


def test_tampered_model_file_is_refused(models):
    with (models / "v1" / "topic.skops").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ArtifactError, match="sha256"):
        load_bundle(models / "v1")


def test_tampered_vocabulary_is_refused(models):
    path = models / "v1" / "vectorizer.vocab.txt"
    path.write_text("вода\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ArtifactError, match="sha256"):
        load_bundle(models / "v1")


def test_unknown_type_is_refused_even_with_matching_hash(models):
    folder = models / "v1"
    sio.dump({"payload": Path("/etc/passwd")}, folder / "topic.skops")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["files"]["topic.skops"] = sha256_file(folder / "topic.skops")
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError, match="allow-list"):
        load_bundle(folder)


def test_missing_meta_is_refused(models):
    (models / "v1" / "meta.json").unlink()
    with pytest.raises(ArtifactError, match="no meta.json"):
        load_bundle(models / "v1")


def test_promote_and_rollback(models):
    assert registry.list_versions(models) == ["v1", "v2"]
    registry.promote("v1", models)
    registry.promote("v2", models)
    assert registry.active_version(models) == "v2"
    assert registry.rollback(models) == "v1"
    assert registry.active_version(models) == "v1"
    with pytest.raises(LookupError):
        registry.rollback(models)


def test_promote_refuses_a_bad_protocol(models):
    edit_meta(models / "v2", protocol=0)
    with pytest.raises(ArtifactError):
        registry.promote("v2", models)


def test_promote_refuses_a_tampered_file(models):
    # meta.json alone used to be checked: the promotion succeeded and every daemon then refused to start
    with (models / "v2" / "genre.skops").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ArtifactError, match="genre.skops: sha256 differs"):
        registry.promote("v2", models)
    assert not (models / registry.ACTIVE).exists()


def test_rollback_refuses_a_tampered_previous_version(models):
    registry.promote("v1", models)
    registry.promote("v2", models)
    (models / "v1" / "vectorizer.vocab.txt").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        registry.rollback(models)
    assert registry.active_version(models) == "v2"
