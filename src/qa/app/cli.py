"""The `qa` command line: its arguments, and running a command with errors turned into messages and exit codes."""
from __future__ import annotations

import argparse
import os
import sys

from qa.app.commands import (cmd_add, cmd_ask, cmd_build, cmd_check, cmd_eval, cmd_list, cmd_parse, cmd_quotes,
                             cmd_remove, cmd_serve, cmd_status, cmd_trace)
from qa.app.messages import error_message
from qa.errors import QAError
from qa.ingest.metadata import DOCUMENT_KINDS
from qa.settings import BACKENDS, DEFAULT_MODEL, ENGINE_CHOICES, EVAL_K, TRAINED_RERANKER, Settings


def build_parser() -> argparse.ArgumentParser:
    # no abbreviations anywhere: `qa ask --mode dense` must not be taken for --model dense
    parser = argparse.ArgumentParser(prog="qa", description="讲稿问答：在讲话稿和公文中查找可引用的原文。", allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = Settings()

    def command(name, help_text, func, *, json_output=False, data=True, model=True, index=True):
        p = sub.add_parser(name, help=help_text, allow_abbrev=False)
        p.set_defaults(func=func)
        if json_output:
            p.add_argument("--json", action="store_true", help="输出 JSON")
        if index:
            p.add_argument("--index", metavar="DIR", help=f"索引目录（默认 {defaults.index_dir}/）")
            p.add_argument("--backend", choices=BACKENDS,
                           help="段落和向量存放在哪里：local（默认，本机文件）或 milvus（Milvus 服务器或 Milvus Lite；"
                                "也可设 QA_BACKEND）。不写时沿用现有索引的")
            p.add_argument("--milvus-uri", metavar="URI",
                           help="Milvus 地址：http://主机:19530，或以 .db 结尾的文件夹（Milvus Lite，只能一个进程打开）；"
                                "默认：建索引时的地址，否则索引目录中的 milvus.db（也可设 QA_MILVUS_URI）")
            p.add_argument("--milvus-token", metavar="TOKEN", help="Milvus 口令：用户名:密码 或 API key（也可设 QA_MILVUS_TOKEN）")
            p.add_argument("--milvus-db", metavar="NAME", help="Milvus 数据库（默认 default；也可设 QA_MILVUS_DB）")
            p.add_argument("--milvus-name", metavar="NAME",
                           help=f"Milvus 中这个文库的别名（默认 {defaults.store.milvus_name}；一个文库一个名字）")
        if data:
            p.add_argument("--data", metavar="DIR", help="讲稿目录（默认 data/）")
        if model:
            p.add_argument("--model", metavar="NAME_OR_PATH",
                           help=f"嵌入模型：内置 {DEFAULT_MODEL}（默认），或 sentence-transformers 模型名/本地文件夹")
            p.add_argument("--engine", metavar="NAME",
                           help=f"嵌入引擎：{'、'.join(ENGINE_CHOICES)}（默认 auto：自动选本机最快的，首次使用时实测一次）")
        return p

    def rerank_options(p) -> None:
        p.add_argument("--rerank", action="store_true",
                       help=f"用本项目训练的重排序模型 {TRAINED_RERANKER} 重排前 {defaults.retrieve.rerank_candidates} "
                            "个候选（默认不用：在开发集上它不如现有排序；也可设 QA_RERANK=1）")
        p.add_argument("--no-rerank", action="store_true", help="不用重排序模型（默认；也可设 QA_RERANK=0）")
        p.add_argument("--reranker", metavar="NAME", help="按名称指定重排序模型")

    p = command("build", "从讲稿目录建立或更新索引", cmd_build)
    p.add_argument("--jsonl", metavar="FILE", help="索引预先切分好的段落：每行 {id, title, text}（代替 --data）")
    p.add_argument("--force", action="store_true", help="即使没有变化也重建")

    for name, help_text, subject, subject_help, k_help, func in (
        ("ask", "提问，返回相关段落、可引用的句子和出处", "question", "问题；用 - 从标准输入逐行读取问题（每行输出一个 JSON）",
         f"返回段落数（默认 {defaults.retrieve.k}）", cmd_ask),
        ("quotes", "按主题找可引用的句子（跨文档，已去重）", "theme", "主题，例如：标准化建设",
         f"返回句数（默认 {defaults.retrieve.quotes_k}）", cmd_quotes),
    ):
        p = command(name, help_text, func, json_output=True)
        p.add_argument(subject, help=subject_help)
        p.add_argument("-k", type=int, help=k_help)
        p.add_argument("--no-update", action="store_true", help="不检查讲稿目录的变化")
        p.add_argument("--doc", metavar="TEXT", help="只在标题、文件名或 id 含有该文字的文档中查找")
        p.add_argument("--year", metavar="YYYY[-YYYY]", help="只在该年份（或年份范围）的文档中查找")
        rerank_options(p)
        if name == "ask":
            p.add_argument("--as-of", metavar="YYYY[-MM-DD]", help="问题中的“今年”“去年”以此为准（默认：最新文档的年份）")
            p.add_argument("--per-doc", type=int, metavar="N",
                           help="每篇文档最多列 N 段（1：每篇文档的最佳答案；默认不限）")
            p.add_argument("--after", metavar="QUESTION", help="上一个问题：追问（如“那要怎么加强？”）按它来理解")
            p.add_argument("--export", metavar="FILE", help="把回答另存为 .md 或 .docx（引文出处为脚注）")

    p = command("check", "引文核对：稿子里引号中的每句话是否与原文一致、出处是否相符", cmd_check, json_output=True)
    p.add_argument("draft", help="稿子文件（.txt .md .docx .html）；用 - 从标准输入读取")
    p.add_argument("--all-sentences", action="store_true", help="也逐句核对没有加引号的句子（查找未标注的引用）")
    p.add_argument("--no-update", action="store_true", help="不检查讲稿目录的变化")
    p.add_argument("--export", metavar="FILE", help="把核对后的稿子另存为 .docx（引文按结论着色，出处为脚注）或 .md")

    p = command("trace", "提法演变：一个提法在历年文档中怎么说、每年改了什么", cmd_trace, json_output=True)
    p.add_argument("phrase", help="提法，例如：稳中求进工作总基调、新质生产力、经济增长预期目标")
    p.add_argument("--kind", metavar="KIND",
                   help=f"只看这类文档：{'、'.join(DOCUMENT_KINDS)}（默认全部；提法中写了类别也可以）")
    p.add_argument("--from", dest="year_from", metavar="YYYY", help="从哪一年起")
    p.add_argument("--to", dest="year_to", metavar="YYYY", help="到哪一年止")
    p.add_argument("--no-update", action="store_true", help="不检查讲稿目录的变化")
    p.add_argument("--export", metavar="FILE", help="把演变表另存为 .docx（出处为脚注）或 .md")

    p = command("add", "添加讲稿文件或文件夹（.txt .md .docx .html .pdf），并更新索引", cmd_add, json_output=True)
    p.add_argument("paths", nargs="+", metavar="PATH", help="文件或文件夹")
    p = command("remove", "移除一篇文档（文件移到 data/.removed/），并更新索引", cmd_remove)
    p.add_argument("doc", help="文件名、文档 id，或标题中的一段文字")
    command("list", "列出文档：日期、段落数、状态", cmd_list, json_output=True, model=False)
    p = command("parse", "查看一个文件会被怎样理解：标题、日期、讲话人、场合、章节树、删掉的杂质", cmd_parse,
                json_output=True, data=False, model=False, index=False)
    p.add_argument("file", help="讲稿文件")
    p = command("status", "索引状态：文档、段落、模型、嵌入引擎、是否需要更新", cmd_status, json_output=True, model=False)
    p.add_argument("--engine", metavar="NAME", help="显示指定引擎的状态（默认：QA_ENGINE 或 auto）")

    p = command("eval", "在问题集上评测检索：R@1/3/5/10、MRR@10、quote@1", cmd_eval, json_output=True, data=False,
                model=False)
    p.add_argument("questions", help="问题文件（JSONL）：question 加 gold 短语列表或 gold_passage_ids")
    p.add_argument("-k", type=int, default=EVAL_K, help=f"看前几名（默认 {EVAL_K}）")
    p.add_argument("--mode", help="hybrid（默认）、dense、keyword，或 all（三种各评一次，问题只嵌入一次）")
    p.add_argument("--show", type=int, default=20, help="列出几个失败的问题（默认 20）")
    rerank_options(p)

    p = command("serve", "启动浏览器界面", cmd_serve)
    p.add_argument("--host", help=f"监听地址（默认 {defaults.serve.host}）")
    p.add_argument("--port", type=int, help=f"端口（默认 {defaults.serve.port}）")
    p.add_argument("--auth", metavar="USER:PASS", help="网页登录的用户名和密码（也可用环境变量 QA_AUTH）")
    p.add_argument("--read-only", action="store_true", help="只读：网页中不能添加、删除文档或重建索引")
    rerank_options(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except QAError as exc:
        print(error_message(exc), file=sys.stderr)
        return 2 if exc.code in ("invalid_setting", "empty_question", "bad_phrase") else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `qa ask … | head`: the reader has gone, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run() -> None:
    """The `qa` console script: main(), then exit at once.

    Everything is written, closed and unlocked by the time main returns; what is left is freeing memory, and the
    embedding tokenizer's 250,002-piece vocabulary alone takes 0.3 s to free. In-process callers use main()."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
