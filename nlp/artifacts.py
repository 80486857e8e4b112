"""Model artifacts: one dir per version with skops files and meta.json (protocol, hashes, metrics, versions).

Loading checks, in order: meta.json exists and its `protocol` equals PROTOCOL; every file listed in
`meta["files"]` has the recorded sha256 (these two are check_bundle, also run by promote and rollback);
the skops files contain only allow-listed types. Anything else raises ArtifactError with one clear line.
"""
from __future__ import annotations

import copy
import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import skops.io as sio

PROTOCOL = 2  # 2: genre head (complaint / notice / other) and its own vectorizer
META = "meta.json"
VOCAB_SUFFIX = ".vocab.txt"
# Types a shipped model may contain (skops refuses anything else that is not trusted by default).
TRUSTED_TYPES = frozenset({
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.int32",
    "builtins.slice",
})


class ArtifactError(RuntimeError):
    """A model directory that must not be loaded (wrong protocol, tampered or unknown content)."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on."""
    from importlib.metadata import version

    libs = ("scikit-learn", "skops", "numpy", "scipy", "pymorphy3", "pymorphy3-dicts-ru", "razdel", "pandas")
    return {"python": platform.python_version(), **{lib: version(lib) for lib in libs}}


def save_bundle(folder: Path, estimators: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Write each estimator as <name>.skops and meta.json with their sha256; return the meta written.

    A fitted `vocabulary_` goes to <name>.vocab.txt (one term per line, line number = column): skops
    writes a 100k-entry dict very slowly, a text file is instant and readable.
    """
    folder.mkdir(parents=True, exist_ok=False)
    files = {}
    for name, estimator in estimators.items():
        vocabulary = getattr(estimator, "vocabulary_", None)
        if vocabulary is not None:
            files.update(save_vocabulary(folder / f"{name}{VOCAB_SUFFIX}", vocabulary))
            estimator = copy.copy(estimator)
            estimator.vocabulary_ = {}
        path = folder / f"{name}.skops"
        sio.dump(estimator, path)
        files[path.name] = sha256_file(path)
    meta = {"protocol": PROTOCOL, **meta, "files": files, "libraries": library_versions()}
    (folder / META).write_text(json.dumps(meta, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return meta


def read_meta(folder: Path) -> dict[str, Any]:
    """meta.json of a model dir, refusing a missing file or a different protocol."""
    path = folder / META
    if not path.is_file():
        raise ArtifactError(f"{folder}: no {META}, not a model directory")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path}: unreadable JSON ({exc})") from exc
    if meta.get("protocol") != PROTOCOL:
        raise ArtifactError(f"{folder}: model protocol {meta.get('protocol')!r}, this code reads protocol {PROTOCOL}; "
                            "retrain or use a matching release")
    return meta


def check_bundle(folder: Path) -> dict[str, Any]:
    """meta.json of a model dir after the protocol check and the sha256 of every file it lists (promote, load)."""
    meta = read_meta(folder)
    files = meta.get("files")
    if not isinstance(files, dict) or not files:
        raise ArtifactError(f"{folder / META}: lists no model files")
    for filename, expected in files.items():
        path = folder / filename
        if not path.is_file():
            raise ArtifactError(f"{path}: listed in {META} but missing")
        if sha256_file(path) != expected:
            raise ArtifactError(f"{path}: sha256 differs from {META}; the file was changed after training")
    return meta


def load_bundle(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(estimators by name, meta) after the protocol, sha256 and type checks."""
    meta = check_bundle(folder)
    files = meta["files"]
    estimators = {}
    for filename in files:
        if filename.endswith(".skops"):
            name = filename[: -len(".skops")]
            estimators[name] = load_trusted(folder / filename)
            vocab = folder / f"{name}{VOCAB_SUFFIX}"
            if vocab.name in files:
                estimators[name].vocabulary_ = load_vocabulary(vocab)
    return estimators, meta


def save_vocabulary(path: Path, vocabulary: dict[str, int]) -> dict[str, str]:
    """Write terms ordered by column index, one per line; return {filename: sha256}."""
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    if any("\n" in t for t in terms):
        raise ValueError("a vocabulary term contains a newline")
    path.write_text("\n".join(terms) + "\n", encoding="utf-8")
    return {path.name: sha256_file(path)}


def load_vocabulary(path: Path) -> dict[str, int]:
    """Term → column index from a vocabulary file."""
    terms = path.read_text(encoding="utf-8").split("\n")[:-1]
    return {term: i for i, term in enumerate(terms)}


def load_trusted(path: Path) -> Any:
    """Load one skops file whose types are all allow-listed."""
    untrusted = set(sio.get_untrusted_types(file=path))
    unknown = untrusted - TRUSTED_TYPES
    if unknown:
        raise ArtifactError(f"{path}: contains types outside the allow-list: {sorted(unknown)}")
    return sio.load(path, trusted=sorted(untrusted))
