"""The report a student reads: one line per exercise, then the first difference or error."""

from __future__ import annotations

import json

from .verdict import FAIL, INCOMPLETE, ERROR, PASS, STATUS_KO, CellFailure, CheckResult, ExerciseResult, Failure

# ---------------------------------------------------------------------------- reporting

_KEY_KO = {
    "stdout": "출력(stdout)",
    "stderr": "오류 출력(stderr)",
    "text/plain": "결과 값(text/plain)",
    "text/html": "HTML 출력(text/html)",
    "text/latex": "수식 출력(text/latex)",
    "text/markdown": "마크다운 출력(text/markdown)",
    "ename": "예외 이름(ename)",
    "evalue": "예외 메시지(evalue)",
}
_MAX_LINE = 160


def _clip(s: str) -> str:
    return s if len(s) <= _MAX_LINE else s[: _MAX_LINE - 1] + "…"


def _window(r: str, y: str) -> tuple[str, str]:
    """Cut two long lines to the same window around their first differing character."""
    if max(len(r), len(y)) <= _MAX_LINE:
        return r, y
    k = 0
    while k < min(len(r), len(y)) and r[k] == y[k]:
        k += 1
    start = max(0, k - 40)
    end = start + _MAX_LINE - 2
    cut = lambda s: ("…" if start else "") + s[start:end] + ("…" if len(s) > end else "")
    return cut(r), cut(y)


def _as_text(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _diff_lines(diff: dict) -> list:
    key = diff.get("key", "")
    what = _KEY_KO.get(key, key)
    ref_vals = [_as_text(v) for v in diff.get("reference", [])]
    your_vals = [_as_text(v) for v in diff.get("yours", [])]
    kind = diff.get("kind")
    if kind == "value":
        r_lines, y_lines = ref_vals[0].split("\n"), your_vals[0].split("\n")
        i = 0
        while i < min(len(r_lines), len(y_lines)) and r_lines[i] == y_lines[i]:
            i += 1
        r = r_lines[i] if i < len(r_lines) else "(여기서 출력이 끝남 / output ends here)"
        y = y_lines[i] if i < len(y_lines) else "(여기서 출력이 끝남 / output ends here)"
        r, y = _window(r, y)
        where = f"{what}, {i + 1}번째 줄" if max(len(r_lines), len(y_lines)) > 1 else what
        return [
            f"처음 다른 출력: {where} (first differing output)",
            f"정답(reference): {_clip(r)}",
            f"내 출력(yours):  {_clip(y)}",
        ]
    if kind == "missing":
        first = ref_vals[0].split("\n")[0] if ref_vals else ""
        return [
            f"정답에 있는 {what}이(가) 내 출력에 없습니다 (missing output)",
            f"정답(reference): {_clip(first)}",
            "내 출력(yours):  (출력 없음 / no output)",
        ]
    if kind == "unexpected":
        first = your_vals[0].split("\n")[0] if your_vals else ""
        return [
            f"정답에 없는 {what}이(가) 나왔습니다 (unexpected output)",
            "정답(reference): (출력 없음 / no output)",
            f"내 출력(yours):  {_clip(first)}",
        ]
    return [
        f"{what} 개수가 다릅니다 (number of outputs differs)",
        f"정답(reference): {len(ref_vals)}개 — {_clip(ref_vals[0].splitlines()[0] if ref_vals and ref_vals[0] else '')}",
        f"내 출력(yours):  {len(your_vals)}개 — {_clip(your_vals[0].splitlines()[0] if your_vals and your_vals[0] else '')}",
    ]


def _exc_text(f: Failure) -> str:
    return f"{f.ename}: {f.evalue}" if f.evalue else f.ename


def _failure_lines(f: Failure, cell_name: str) -> list:
    if f.kind == "exception":
        at = f" {f.line}행" if f.line and not f.where else ""
        if f.where:
            return [
                f"{cell_name}에서 오류가 났습니다 (exception) — 오류가 난 곳: {f.where}"
                + (f" {f.line}행" if f.line else ""),
                f"내 출력(yours):  {_clip(_exc_text(f))}",
            ]
        return [
            f"{cell_name}{at}에서 오류가 났습니다 (exception):",
            f"내 출력(yours):  {_clip(_exc_text(f))}",
        ]
    if f.kind == "mismatch":
        if f.diff:
            return [f"{cell_name}의 출력이 정답과 다릅니다 (output differs)."] + _diff_lines(f.diff)
        return [f"{cell_name}의 출력이 정답과 다릅니다 (output differs):"] + [
            _clip(l) for l in f.message.splitlines()[:12]
        ]
    if f.kind == "hidden":
        return [
            "숨은 검사(hidden check): 새 입력으로 연습의 함수·값을 다시 계산한 결과가 정답과 다릅니다 "
            "(your answer differs from the lesson's on fresh inputs).",
            f"    {_clip(f.message)}",
            "    확인 셀의 출력만 맞추는 답이 아니라, 어떤 입력에도 맞는 답을 쓰세요.",
        ]
    if f.kind == "timeout":
        return [f"{cell_name}: 시간 초과 (timeout)"]
    if f.kind == "crash":
        return [f"{cell_name}에서 커널이 멈췄습니다 (the kernel died); 뒤의 셀은 실행되지 않았습니다."]
    if f.kind == "notrun":
        return [f"{cell_name}: 실행되지 않음 (not run)"]
    return [f"{cell_name}: {_clip(f.message)}"]


def exercise_lines(e: ExerciseResult) -> list:
    """The report lines of one exercise: the status line, then indented details."""
    title = f" ({e.title})" if e.title else ""
    head = f"연습 {e.number}{title}: {STATUS_KO[e.status]}"
    if e.reason:
        head += f" ({e.reason})"
    out = [head]
    if e.status == FAIL and e.failure is not None:
        cell_name = {"exercise": "연습 셀(exercise cell)", "hidden": "숨은 검사(hidden check)"}.get(
            e.failed_cell, "확인 셀(check cell)")
        out += ["    " + l for l in _failure_lines(e.failure, cell_name)]
    if e.status == ERROR and e.failure is not None and e.failure.kind == "hidden":
        out.append(f"    {_clip(e.failure.message)}")
    if e.status == INCOMPLETE and e.failure is not None and e.blocked_by is not None:
        if e.failure.kind == "exception":
            out.append(f"    오류(error): {_clip(_exc_text(e.failure))}")
    if e.hint:
        out.append(f"    도움말(hint): {e.hint}")
    if e.affected:
        out.append(
            f"    뒤의 셀 {len(e.affected)}개도 이 연습 때문에 실패했습니다 "
            f"({len(e.affected)} later cell(s) failed because of it)."
        )
    return out


def other_lines(o: CellFailure) -> list:
    out = [f"연습 밖의 셀(other cell): 실패 — {o.label}"]
    out += ["    " + l for l in _failure_lines(o.failure, "이 셀")]
    if o.followers:
        out.append(
            f"    뒤의 셀 {o.followers}개도 이 셀 때문에 실행되지 못했습니다 (NameError) "
            f"({o.followers} later cell(s) failed because of it)."
        )
    out.append(
        "    도움말(hint): 앞의 연습이 모두 통과했는데 이 셀이 다르면, 연습 답이 뒤 셀에서 쓰는 값을 "
        "바꾸었거나 환경(패키지 버전, 작업 폴더)이 다를 수 있습니다."
    )
    return out


def summary_lines(result: CheckResult) -> list:
    n = len(result.exercises)
    counts = {s: sum(e.status == s for e in result.exercises) for s in STATUS_KO}
    parts = [f"{STATUS_KO[s]} {counts[s]}" for s in (FAIL, INCOMPLETE, ERROR) if counts[s]]
    if result.others:
        parts.append(f"연습 밖 실패 {len(result.others)}")
    verdict = "모두 통과!" if result.ok else ", ".join(parts)
    en = f"Result: {counts[PASS]} of {n} exercise(s) passed"
    if not result.ok:
        en += f"; {counts[FAIL]} failed, {counts[INCOMPLETE]} incomplete"
        if counts[ERROR]:
            en += f", {counts[ERROR]} not checked"
        if result.others:
            en += f", {len(result.others)} other cell(s) failed"
    return [f"결과: 연습 {n}개 중 {counts[PASS]}개 통과 — {verdict}", en + "."]


def format_report(result: CheckResult, shown_path: str | None = None) -> str:
    name = shown_path or result.path.name
    out = [f"검사(check): {name} — 레슨 {result.lesson}, 연습 {len(result.exercises)}개"]
    out += [f"  참고(note): {note}" for note in result.notes]
    for e in result.exercises:
        out += ["  " + l for l in exercise_lines(e)]
    for o in result.others:
        out += ["  " + l for l in other_lines(o)]
    out += summary_lines(result)
    return "\n".join(out)
