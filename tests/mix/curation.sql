-- Curating with SQL: the worked queries of the README, run by tests/mix (test_curation)
-- against a populated database (filter 1, mix 'demo'). Each is one read-only
-- statement; the ones that return trace ids can be passed to `retort mix --query`.

-- 1. Difficulty band: problems the teacher solves sometimes but not always
--    (the usual rule is 0.2 <= pass rate <= 0.8 over 8 samples).
SELECT p.family, count(*) AS problems, round(avg(pr.pass_rate), 3) AS mean_pass_rate
FROM v_problem_pass_rate pr JOIN problems p ON p.id = pr.problem_id
WHERE pr.filter_id = 1 AND pr.n_judged >= 2 AND pr.pass_rate BETWEEN 0.2 AND 0.8
GROUP BY p.family ORDER BY p.family;

-- 2. Why traces were rejected, most common reason first.
SELECT reason, n, round(100.0 * n / (SELECT count(*) FROM verdicts WHERE filter_id = 1), 1) AS pct_of_judged
FROM v_reject_reasons WHERE filter_id = 1 ORDER BY n DESC, reason;

-- 3. What a mix can draw from: candidates by family, language and class, with lengths.
SELECT family, lang, reasoning, count(*) AS traces, count(DISTINCT problem_id) AS problems,
       round(avg(n_chars)) AS mean_chars, max(n_chars) AS max_chars
FROM v_candidates WHERE filter_id = 1
GROUP BY family, lang, reasoning ORDER BY family, lang;

-- 4. The shortest kept trace of each problem (a --query: one sample per problem, concise ones).
SELECT trace_id FROM (
  SELECT trace_id, row_number() OVER (PARTITION BY problem_id ORDER BY n_chars, trace_id) AS rk
  FROM v_candidates WHERE filter_id = 1)
WHERE rk = 1;

-- 5. Only traces whose chain of thought stays in the problem's language, from
--    problems of middling difficulty (a --query; the same as --where
--    "lang_ratio >= 0.99 AND pass_rate BETWEEN 0.2 AND 0.8").
SELECT trace_id FROM v_candidates
WHERE filter_id = 1 AND lang_ratio >= 0.99 AND pass_rate BETWEEN 0.2 AND 0.8;

-- 6. Teachers compared: how much of each one's output the filter kept.
SELECT tc.name, tc.template, count(*) AS judged, sum(v.keep) AS kept, round(avg(v.keep), 3) AS keep_rate
FROM verdicts v JOIN traces t ON t.id = v.trace_id JOIN teachers tc ON tc.id = t.teacher_id
WHERE v.filter_id = 1 GROUP BY tc.id ORDER BY keep_rate DESC, tc.id;

-- 7. A what-if threshold without re-running the filter: rejected traces whose
--    answer was right, by reason, with their language ratio.
SELECT reasons, count(*) AS traces, round(avg(lang_ratio), 3) AS mean_lang_ratio
FROM verdicts WHERE filter_id = 1 AND pass = 0
GROUP BY reasons ORDER BY traces DESC;

-- 8. The composition of a mix: shares by split, family and language.
SELECT split, family, lang, count(*) AS items,
       round(1.0 * count(*) / sum(count(*)) OVER (PARTITION BY split), 4) AS share
FROM v_mix_samples WHERE mix = 'demo'
GROUP BY split, family, lang ORDER BY split, family, lang;

-- 9. How a mix was built: its options, funnel and decontamination report.
SELECT name, n_train, n_val, json_extract(spec, '$.seed') AS seed,
       json_extract(report, '$.decontamination.problems_dropped') AS contaminated_problems,
       json_extract(report, '$.funnel') AS funnel
FROM mixes WHERE name = 'demo';
