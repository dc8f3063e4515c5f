"""From nbval's per-cell records (and the hidden checks' comparisons) to one verdict per exercise."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .match import Submission, _cell_label
from .run import _tail
from .hidden import compare
from .notebook import CheckerError, bound_names, cell_source, first_line, identifiers, josa, normalise_code

PASS, FAIL, INCOMPLETE, ERROR = "pass", "fail", "incomplete", "error"
STATUS_KO = {PASS: "통과", FAIL: "실패", INCOMPLETE: "미완성", ERROR: "오류"}
_STUB_LINE = re.compile(r"^\s*raise\s+NotImplementedError\s*(\(\s*\))?\s*$", re.MULTILINE)
_NAME_ERROR = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TB_FRAME = re.compile(r"^Cell In\s*\[\d*\],\s*line (\d+)", re.MULTILINE)
_TB_ARROW = re.compile(r"^-+> ?(\d+) (.*)$", re.MULTILINE)

# ----------------------------------------------------------------------------- analysis


@dataclass
class Failure:
    kind: str  # "exception" | "mismatch" | "timeout" | "crash" | "notrun" | "hidden" | "other"
    ename: str = ""
    evalue: str = ""
    line: int | None = None  # line of the innermost notebook frame
    code_line: str = ""  # that line's text, to find the cell it belongs to
    where: str = ""  # the cell that frame is in, when it is not the failing cell
    diff: dict | None = None
    message: str = ""


@dataclass
class CellFailure:
    label: str
    failure: Failure
    causal: bool = False  # a NameError/NotImplementedError traced to an unsolved exercise
    defines: tuple = ()  # names the failed cell would have bound
    followers: int = 0  # later cells that failed with NameError on one of those names


@dataclass
class ExerciseResult:
    number: int
    title: str | None
    status: str = PASS
    reason: str = ""  # short Korean reason after the status
    failure: Failure | None = None
    failed_cell: str = ""  # "exercise" or "check"
    blocked_by: int | None = None
    affected: list = field(default_factory=list)  # later cells that failed because of this one
    hint: str = ""


@dataclass
class CheckResult:
    path: Path
    lesson: str
    exercises: list
    others: list  # CellFailure outside any exercise, not explained by one
    notes: list
    hidden: dict = field(default_factory=dict)  # number -> (values, reason) the run's hidden cells wrote

    @property
    def ok(self) -> bool:
        return all(e.status == PASS for e in self.exercises) and not self.others

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def _failure_of(rec: dict | None) -> Failure | None:
    if rec is None:
        return Failure(kind="notrun", message="not run")
    outcome = rec.get("outcome")
    if outcome in ("passed", "skipped"):
        return None
    if outcome == "xfailed":
        return Failure(kind="notrun", message=rec.get("message", ""))
    msg = rec.get("message", "")
    errors = [o for o in rec.get("outputs", []) if o.get("output_type") == "error"]
    if "Kernel dead" in msg:
        return Failure(kind="notrun", message=msg)
    if rec.get("kernel_alive") is False and not errors:
        return Failure(kind="crash", message=msg)
    if msg.startswith("Timeout") or "Timeout of" in msg:
        return Failure(kind="timeout", message=msg)
    if msg.startswith("Cell execution caused an exception") and errors:
        err = errors[-1]
        tb = _ANSI.sub("", "\n".join(err.get("traceback", [])))
        # IPython names every cell "Cell In[N]" with the same N here (nbval runs cells without
        # history), so the innermost frame is located later by the text of its "---->" line.
        starts = [m.start() for m in _TB_FRAME.finditer(tb)]
        line, code_line = None, ""
        if starts:
            frame = tb[starts[-1]:]
            arrow = _TB_ARROW.search(frame)
            if arrow:
                line, code_line = int(arrow.group(1)), arrow.group(2)
        return Failure(
            kind="exception", ename=err.get("ename", ""), evalue=err.get("evalue", ""),
            line=line, code_line=code_line, message=msg,
        )
    if msg.startswith("Cell outputs differ"):
        return Failure(kind="mismatch", diff=rec.get("diff"), message=rec.get("nbval_report", "") or msg)
    return Failure(kind="other", message=msg)


def analyse(sub: Submission, data: dict) -> CheckResult:
    ref = sub.reference
    code = [c for c in ref.nb["cells"] if c["cell_type"] == "code"]
    records = {r["cell_num"]: r for r in data.get("records", [])}
    if code and not records:
        raise CheckerError(
            "nbval이 셀을 하나도 실행하지 못했습니다 (nbval ran no cell):\n"
            + "\n".join(data.get("collect_errors", [])) + "\n" + _tail(data.get("pytest_output", ""))
        )
    role = {}
    for ex in ref.exercises:
        role[ex.cell_id] = ("solution", ex)
        role[ex.check_cell_id] = ("check", ex)
    results = {ex.number: ExerciseResult(ex.number, ex.title) for ex in ref.exercises}
    pristine = {ex.number: cell_source(ref.cell_by_id()[ex.cell_id]) for ex in ref.exercises}
    unsolved: list = []  # exercises (Exercise) with status incomplete, in order
    not_passing: list = []  # exercises that did not pass, in order
    others: list = []
    timed_out = False
    pending: dict = {}  # exercise number -> (failure, which cell) of its exercise cell

    def blame(failure: Failure, source: str):
        """The unsolved exercise a NameError / NotImplementedError comes from, if any."""
        if failure.kind != "exception" or not unsolved:
            return None
        if failure.ename == "NameError":
            m = _NAME_ERROR.search(failure.evalue)
            if m:
                for ex in reversed(unsolved):
                    if m.group(1) in ex.defines:
                        return ex
            return None
        if failure.ename == "NotImplementedError":
            used = identifiers(source)
            for ex in reversed(unsolved):
                if used & set(ex.defines):
                    return ex
            return unsolved[-1]
        return None

    ran = [cell_source(c).split("\n") for c in sub.merged()["cells"] if c["cell_type"] == "code"]

    def locate(failure: Failure | None, n: int) -> None:
        """Find the cell of the innermost frame (the failing cell, or an earlier one whose
        function was called); drop the line number when that cannot be told."""
        if failure is None or failure.line is None:
            return
        k, text = failure.line, failure.code_line.rstrip()

        def has(i):
            return len(ran[i]) >= k and ran[i][k - 1].rstrip() == text

        if has(n):
            return
        origin = next((i for i in range(n - 1, -1, -1) if has(i)), None)
        if origin is None:
            failure.line = None
        else:
            failure.where = _cell_label(ref, code[origin])

    for n, cell in enumerate(code):
        failure = _failure_of(records.get(n))
        locate(failure, n)
        if failure is not None and failure.kind in ("timeout", "crash"):
            timed_out = True
        r = role.get(cell.get("id"))
        if r is None:
            if failure is None:
                continue
            if failure.kind == "notrun" and timed_out:
                continue  # reported where the timeout happened
            label = f"코드 셀 \"{first_line(cell_source(cell))}\""
            cause = blame(failure, cell_source(cell))
            culprit = cause or (not_passing[-1] if not_passing else None)
            if culprit is not None:
                results[culprit.number].affected.append(CellFailure(label, failure, cause is not None))
                continue
            m = _NAME_ERROR.search(failure.evalue) if failure.ename == "NameError" else None
            origin = next((o for o in reversed(others) if m and m.group(1) in o.defines), None)
            if origin is not None:
                origin.followers += 1
                origin.defines += tuple(bound_names(cell_source(cell)))
            else:
                others.append(CellFailure(label, failure, defines=tuple(bound_names(cell_source(cell)))))
            continue
        kind, ex = r
        res = results[ex.number]
        if kind == "solution":
            pending[ex.number] = failure
            continue
        # the check cell: decide the exercise from both of its cells
        sol_failure = pending.pop(ex.number, None)
        first = sol_failure or failure
        res.failed_cell = "exercise" if sol_failure else ("check" if failure else "")
        answer = sub.answers[ex.number]
        source = answer if sol_failure else cell_source(cell)
        untouched = normalise_code(answer) == normalise_code(pristine[ex.number])
        if untouched:
            res.status, res.reason = INCOMPLETE, "아직 답을 쓰지 않음 / not attempted"
            res.failure = first  # None only if the lesson's check cannot see a missing answer
        elif first is None:
            res.status = PASS
        elif first.kind == "notrun":
            res.status = ERROR
            res.reason = "앞의 셀에서 시간 초과나 커널 중단이 있어 검사하지 못함 / not run: an earlier cell timed out or the kernel died"
        elif first.kind == "exception" and first.ename == "NotImplementedError" and _STUB_LINE.search(answer):
            res.status = INCOMPLETE
            res.reason = "답에 raise NotImplementedError()가 남아 있음 / stub still in place"
            res.failure = first
        elif (culprit := blame(first, source)) is not None and culprit.number != ex.number:
            res.status, res.blocked_by = INCOMPLETE, culprit.number
            res.reason = (
                f"연습 {culprit.number}{josa(culprit.number)} 풀리지 않아 실행되지 않음 "
                f"/ blocked by unsolved exercise {culprit.number}"
            )
            res.failure = first
        else:
            res.status, res.failure = FAIL, first
            if first.kind == "timeout":
                res.reason = "시간 초과 / timeout — 끝나지 않는 반복문이 있는지 보세요"
            elif first.kind == "crash":
                res.reason = "커널이 멈춤 / kernel died — os._exit, exit(), 메모리 부족 등"
            earlier = [e for e in not_passing if e.number < ex.number]
            if earlier:
                e = earlier[-1]
                res.hint = (
                    f"앞의 연습 {e.number}{josa(e.number)} 통과하지 못해 영향받았을 수 있습니다 "
                    f"(may follow from exercise {e.number})."
                )
            m = _NAME_ERROR.search(first.evalue) if first.ename == "NameError" else None
            origin = next((o for o in reversed(others) if m and m.group(1) in o.defines), None)
            if origin is not None:
                res.hint = (
                    f"앞의 연습 밖 셀({origin.label})이 실패해 '{m.group(1)}'이(가) 만들어지지 않았습니다 "
                    "(caused by an earlier failing cell, see below)."
                )
            if sol_failure is not None and first.kind == "mismatch" and (first.diff or {}).get("kind") == "unexpected":
                res.hint = (
                    "연습 셀이 정답에 없는 출력을 냈습니다 — 확인용 print 등은 지우세요 "
                    "(the exercise cell printed something the reference does not have)."
                )
        if res.status == INCOMPLETE:
            unsolved.append(ex)
        if res.status != PASS:
            not_passing.append(ex)
    return CheckResult(
        path=sub.path,
        lesson=ref.lesson,
        exercises=[results[e.number] for e in ref.exercises],
        others=others,
        notes=list(sub.notes) + ([data["note"]] if data.get("note") else []),
    )


def untouched(sub: Submission) -> set:
    """Numbers of the exercises whose cell is still exactly the stub."""
    cells = sub.reference.cell_by_id()
    return {
        e.number
        for e in sub.reference.exercises
        if normalise_code(sub.answers[e.number]) == normalise_code(cell_source(cells[e.cell_id]))
    }


def apply_hidden(result: CheckResult, sub: Submission, yours: dict, reference: dict) -> CheckResult:
    """Combine nbval's verdict with the hidden checks: an exercise that nbval passed passes only
    if its hidden check's values match the lesson's (compared here, outside the kernel)."""
    for ex in sub.reference.exercises:
        check = sub.reference.hidden.get(ex.number)
        res = result.exercises[ex.number - 1]
        if check is None or res.status != PASS:
            continue
        ref_values, ref_reason = reference.get(ex.number, (None, "no reference run"))
        if ref_values is None:
            res.status = ERROR
            res.reason = "숨은 검사의 정답 값을 만들지 못함 / the hidden check failed on the lesson's solution"
            res.failure = Failure(kind="hidden", message=f"lesson: {ref_reason}")
            continue
        values, reason = yours.get(ex.number, (None, "숨은 검사가 실행되지 않았습니다 (the hidden check did not run)"))
        message = reason if values is None else compare(ref_values, values, check.rtol, check.atol)
        if message is not None:
            res.status, res.failed_cell, res.failure = FAIL, "hidden", Failure(kind="hidden", message=message)
    return result
