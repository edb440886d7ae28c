#!/usr/bin/env python3
"""Baseline for bench/filter: the same rule families written in plain Python
the way open-r1's rewards and the Gopher/NeMo heuristics are usually written
(re, collections.Counter, fractions.Fraction), judging a sample of traces from
the database. Prints traces/s on one core. Usage: baseline.py DB [N]"""
import re, sqlite3, sys, time
from collections import Counter
from fractions import Fraction

FMT = {"tagged": re.compile(r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", re.S),
       "r1": re.compile(r"^<think>\n.*?\n</think>\n.*\S", re.S)}
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")
STRIP = re.compile(r"\\[A-Za-z]+|<[^>]{1,20}>|\$[^$\n]*\$|[0-9]+")

def last_boxed(s):
    i = s.rfind("\\boxed{")
    if i < 0:
        m = re.search(r"final answer is\s*(.+?)(?:\.\s|\.$|$)", s, re.I | re.M)
        return m.group(1) if m else None
    depth, j = 0, i + 6
    for k in range(j, len(s)):
        if s[k] == "{": depth += 1
        elif s[k] == "}":
            depth -= 1
            if depth == 0: return s[j + 1:k]
    return None

def to_frac(a):
    a = a.replace("$", "").replace(",", "").replace("\\%", "").replace("%", "").strip().rstrip(".")
    m = re.fullmatch(r"-?\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}", a)
    if m:
        f = Fraction(int(m.group(1)), int(m.group(2)))
        return -f if a.startswith("-") else f
    try:
        return Fraction(a)
    except (ValueError, ZeroDivisionError):
        return None

def rep(words):
    chars = sum(len(w) for w in words) or 1
    out = []
    for n in range(5, 11):
        seen, dup = set(), 0
        for i in range(len(words) - n + 1):
            g = tuple(words[i:i + n])
            if g in seen: dup += sum(len(w) for w in g)
            else: seen.add(g)
        out.append(dup / chars)
    for n in range(2, 5):
        c = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
        if c:
            g, k = c.most_common(1)[0]
            out.append(k * sum(len(w) for w in g) / chars)
    return out

def judge(text, template, prefilled, finish, lang, truth):
    if prefilled: text = "<think>\n" + text
    ok = bool(FMT.get(template, FMT["r1"]).match(text)) and finish == "stop"
    tail = text.split("</think>")[-1]
    a = last_boxed(tail)
    f = to_frac(a) if a is not None else None
    t = to_frac(truth)
    ok = ok and f is not None and f == t
    cot = text.split("</think>")[0]
    clean = STRIP.sub(" ", cot)
    han, lat = len(HAN.findall(clean)), len(LATIN.findall(clean))
    tot = han + lat
    ratio = (han if lang == "zh" else lat) / tot if tot else 1.0
    ok = ok and ratio >= 0.9
    words = [w.lower() for w in re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", clean)]
    if len(words) >= 100:
        r = rep(words)
        ok = ok and all(x <= y for x, y in zip(r, [.15, .14, .13, .12, .11, .10, .20, .18, .16]))
    return ok

def main():
    db, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    con = sqlite3.connect(db)
    rows = con.execute("SELECT t.text, tc.template, t.think_prefilled, t.finish_reason, p.lang, p.answer"
                       " FROM traces t JOIN problems p ON p.id = t.problem_id JOIN teachers tc ON tc.id = t.teacher_id"
                       " LIMIT ?", (n,)).fetchall()
    t0 = time.perf_counter()
    passed = sum(judge(*r) for r in rows)
    dt = time.perf_counter() - t0
    print(f"python baseline (open-r1-style rules, 1 core): {len(rows)} traces in {dt:.2f} s = {len(rows)/dt:.0f} traces/s ({passed} pass)")

if __name__ == "__main__":
    main()
