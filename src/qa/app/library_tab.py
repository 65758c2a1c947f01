"""The 文档管理 tab: the document list, and upload, delete and rebuild with progress (builders take the gradio
module from the app, so only ui.py imports it)."""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path

from qa.answer import Assistant
from qa.app.cards import escape, render_documents
from qa.app.messages import SUPPORTED, add_summary, build_summary, error_message, message
from qa.data_folder import REMOVED_FOLDER
from qa.errors import NotAnUpload, QAError
from qa.ingest.read import inside
from qa.library import AddReport, DocumentRow, Progress, add_files, list_documents, rebuild, remove_document
from qa.records import DocumentStatus

ALL_DOCUMENTS = "全部文档"
DOCUMENT_HEADERS = ["文件", "标题", "日期", "讲话人", "段落", "状态"]


def confirm_remove_js(folder: str) -> str:
    """Deleting asks first; a cancelled dialog sends no document, and nothing happens."""
    head, tail = message("confirm_remove", source="\x00", folder=folder).split("\x00")
    return f"(source) => (source && confirm({json.dumps(head)} + source + {json.dumps(tail)})) ? source : null"


def forget_uploads(paths: list[str], uploads: Path | None) -> None:
    """Delete the server's temporary copies of uploaded files (only files below uploads are ever deleted): an
    upload is never kept or served back outside data/."""
    if uploads is None:
        return
    root = uploads.resolve()
    for path in map(Path, paths):
        if inside(path.resolve(), root):
            path.unlink(missing_ok=True)
            if path.parent != root:
                shutil.rmtree(path.parent, ignore_errors=True)  # Gradio keeps each upload in a folder of its own


def download_path(folder: Path | None, name: str) -> Path:
    """A new file of this name for the browser to download, in a folder of its own below folder (the uploads
    folder, which Gradio serves files from)."""
    return Path(tempfile.mkdtemp(prefix="download-", dir=folder)) / name


def export_buttons(gr, state, word_label: str, prefix: str, write, name, uploads: Path | None) -> None:
    """Word and Markdown buttons under a result kept in state, and the file they make for the browser:
    write(value, path) writes it, name(value) names it (without the suffix)."""
    with gr.Row():
        to_word = gr.Button(word_label, size="sm", elem_id=f"{prefix}-docx")
        to_markdown = gr.Button("导出为 Markdown", size="sm", elem_id=f"{prefix}-md")
    exported = gr.File(label="导出的文件", visible=False, elem_id=f"{prefix}-exported")

    def download(value, suffix):
        if value is None:
            return gr.update(value=None, visible=False)
        return gr.update(value=str(write(value, download_path(uploads, name(value) + suffix))), visible=True)

    to_word.click(lambda value: download(value, ".docx"), state, exported, api_name=False)
    to_markdown.click(lambda value: download(value, ".md"), state, exported, api_name=False)


class Library:
    """The 文档管理 tab's actions: one at a time, each followed by the assistant serving the new index.

    Uploaded files are temporary copies made by the browser server: they are deleted once added or refused."""

    def __init__(self, assistant: Assistant, uploads: Path | None = None) -> None:
        self.assistant = assistant
        self.uploads = uploads  # where the server keeps uploads (only files below it are ever deleted)
        self._lock = threading.Lock()

    @property
    def removed_folder(self) -> Path:
        return Path(self.assistant.settings.data_dir) / REMOVED_FOLDER

    def rows(self) -> list[DocumentRow]:
        return list_documents(self.assistant.settings)

    def choices(self) -> list[str]:
        return [r.source for r in self.rows() if r.status != DocumentStatus.REMOVED]

    def titles(self) -> list[str]:
        return [ALL_DOCUMENTS] + sorted({r.title for r in self.rows() if r.status == DocumentStatus.INDEXED and r.title})

    def add(self, paths: list[str], progress: Progress | None = None, notify=None) -> list[str]:
        if not paths:
            return [message("nothing_uploaded")]
        return add_summary(self.add_report(paths, progress, notify))

    def add_report(self, paths: list[str], progress: Progress | None = None, notify=None) -> AddReport:
        """Add uploaded files (temporary copies below the uploads folder; any other path is refused, so an API
        caller cannot make the server index its own files)."""
        try:
            outside = [p for p in paths if not self.is_upload(p)]
            if outside:
                raise NotAnUpload(path=outside[0])
            with self._lock:
                report = add_files(self.assistant.settings, [Path(p) for p in paths], self.assistant.embedder,
                                   progress, notify)
                self.assistant.after_write()
        finally:
            forget_uploads(paths, self.uploads)
        return report

    def is_upload(self, path: str) -> bool:
        return self.uploads is None or inside(Path(path).resolve(), self.uploads.resolve())

    def remove(self, source: str | None, progress: Progress | None = None, notify=None) -> list[str]:
        if not source:
            return [message("nothing_chosen")]
        with self._lock:
            row, report = remove_document(self.assistant.settings, source, self.assistant.embedder, progress, notify)
            self.assistant.after_write()
        return [message("removed", source=row.source, title="", folder=str(self.removed_folder)), *build_summary(report)]

    def rebuild(self, progress: Progress | None = None, notify=None) -> list[str]:
        with self._lock:
            report = rebuild(self.assistant.settings, self.assistant.embedder, force=True, progress=progress,
                             notify=notify)
            self.assistant.after_write()
        return build_summary(report)


def library_tab(gr, library: Library, writable: bool):
    """The document list, and (when writable) upload, delete and rebuild; returns the outputs refreshed after a
    change or a page load, the function computing them, and the action components (None when read-only)."""
    removed = escape(str(library.removed_folder))
    if writable:
        gr.Markdown(message("library_intro", supported=escape(SUPPORTED), folder=removed))
    else:
        gr.Markdown(escape(message("read_only_banner")), elem_id="qa-read-only")
    result = gr.Markdown(elem_id="qa-library-result")
    table = gr.Dataframe(render_documents(library.rows()), headers=DOCUMENT_HEADERS, interactive=False, wrap=True,
                         column_widths=["28%", "34%", "13%", "9%", "7%", "9%"],
                         elem_id="qa-documents", label="文档")

    def values_read_only():
        return [render_documents(library.rows())]

    if not writable:  # no upload, delete or rebuild endpoint exists at all
        return [table], values_read_only, None
    with gr.Row():
        # no file_types filter: Gradio would refuse other names with a bare English "Error"; add_files refuses
        # them instead, in Chinese, with the reason
        upload = gr.File(file_count="multiple", label="上传讲稿", elem_id="qa-upload", scale=3)
        with gr.Column(scale=1):
            add = gr.Button("添加到索引", variant="primary", elem_id="qa-add")
            rebuild = gr.Button("重建索引", elem_id="qa-rebuild")
    with gr.Row():
        chosen = gr.Dropdown(library.choices(), value=None, label="选择要删除的文档", scale=3, elem_id="qa-remove-doc")
        remove = gr.Button("删除", variant="stop", scale=1, elem_id="qa-remove")

    def values():
        return [render_documents(library.rows()), gr.update(choices=library.choices(), value=None)]

    confirm = confirm_remove_js(str(library.removed_folder))
    return [table, chosen], values, (result, upload, add, rebuild, chosen, remove, confirm)


def wire_library(gr, library: Library, actions, page_state, state_outputs) -> None:
    result, upload, add, rebuild, chosen, remove, confirm = actions
    outputs = [result, *state_outputs]

    def run(action, *args, progress):
        def report(done, total):
            progress((done, total), desc="嵌入段落", unit="段")

        def notify(code, **details):  # a wait for another writer shows in the progress bar
            progress(0, desc=message(code, **details))

        try:
            lines = action(*args, progress=report, notify=notify)
        except QAError as exc:
            lines = [error_message(exc)]
        return ["<br>".join(escape(line) for line in lines), *page_state()]

    def on_add(files, progress=gr.Progress()):
        return run(library.add, [f if isinstance(f, str) else f.name for f in files or []], progress=progress)

    def on_remove(source, progress=gr.Progress()):
        return run(library.remove, source, progress=progress)

    def on_rebuild(progress=gr.Progress()):
        return run(library.rebuild, progress=progress)

    # the bar is drawn once, over the result line, not over every table and list the action refreshes
    once = {"show_progress_on": [result]}
    add.click(on_add, [upload], outputs, api_name="add_documents", **once).then(lambda: None, None, upload)
    remove.click(on_remove, [chosen], outputs, js=confirm, api_name="remove_document", **once)
    rebuild.click(on_rebuild, None, outputs, api_name="rebuild_index", **once)
