"""Errors raised by the pipeline; the CLI and UI translate them into Chinese messages."""
from __future__ import annotations


class QAError(Exception):
    """Base class: `code` names the kind of error, `details` carries what a message needs."""

    code = "error"

    def __init__(self, **details):
        self.details = details
        super().__init__(f"{self.code}: {details}")


class UnreadableFile(QAError):
    """A text file that is not valid UTF-8 (details: path, reason)."""

    code = "unreadable_file"


class InvalidSetting(QAError):
    """A setting outside its valid range (details: name, value, valid)."""

    code = "invalid_setting"


class ModelUnavailable(QAError):
    """The embedding model cannot be loaded offline (details: model, reason, choices)."""

    code = "model_unavailable"


class EngineUnavailable(QAError):
    """An embedding engine this machine or model cannot use (details: engine, reason, choices)."""

    code = "engine_unavailable"


class IndexMissing(QAError):
    """No built index where one was expected (details: index_dir)."""

    code = "index_missing"


class IndexIncompatible(QAError):
    """An index written by another schema, or damaged (details: index_dir, reason)."""

    code = "index_incompatible"


class DataMissing(QAError):
    """The data folder does not exist (details: data_dir)."""

    code = "data_missing"


class EmptyQuestion(QAError):
    """A question with nothing in it."""

    code = "empty_question"


class BadQuestionFile(QAError):
    """A question-file line that is not a valid question (details: path, line, reason)."""

    code = "bad_question_file"


class DocumentNotFound(QAError):
    """No indexed document matches what the user named (details: key, choices)."""

    code = "document_not_found"


class NotAnUpload(QAError):
    """A file handed to the app's add endpoint that was not uploaded to it (details: path)."""

    code = "not_an_upload"


class AmbiguousDocument(QAError):
    """Several documents match what the user named (details: key, choices)."""

    code = "ambiguous_document"


class IndexBusy(QAError):
    """Another process kept the index's write lock longer than the wait allowed (details: index_dir, seconds,
    pid, what, since)."""

    code = "index_busy"


class UnsafePath(QAError):
    """A file name or path that would lead outside the data folder (details: path, reason)."""

    code = "unsafe_path"


class ReadOnly(QAError):
    """A write asked of an app started read-only."""

    code = "read_only"


class TooLarge(QAError):
    """An upload over a limit (details: what, value, limit)."""

    code = "too_large"


class EmptyDraft(QAError):
    """A draft to check with no text in it."""

    code = "empty_draft"


class DraftTooLong(QAError):
    """A draft to check over the length limit (details: chars, limit)."""

    code = "draft_too_long"


class RerankerUnavailable(QAError):
    """The trained reranker cannot be used: its file is missing or damaged, or its scores do not match the record
    (details: name, reason)."""

    code = "reranker_unavailable"


class BackendUnavailable(QAError):
    """The storage server cannot be reached or refused a request (details: backend, uri, reason)."""

    code = "backend_unavailable"


class BackendMismatch(QAError):
    """An index asked for on one backend that lives on another (details: index_dir, wanted, actual)."""

    code = "backend_mismatch"


class BadPhrase(QAError):
    """A formulation to trace that is empty, one character or too long (details: phrase, reason, least/most)."""

    code = "bad_phrase"
