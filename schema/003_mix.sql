-- 003_mix: immutable, ordered SFT mixes.

CREATE TABLE mixes (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  filter_id   INTEGER REFERENCES filters(id),
  spec        TEXT NOT NULL DEFAULT '{}',    -- JSON of the options that built it
  report      TEXT NOT NULL DEFAULT '{}',    -- JSON: quotas met, decontamination counts and examples
  n_train     INTEGER NOT NULL DEFAULT 0,
  n_val       INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  run_id      INTEGER REFERENCES runs(id)
);

CREATE TABLE mix_items (
  mix_id    INTEGER NOT NULL REFERENCES mixes(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,                -- 0-based order within the mix (shuffled, seeded)
  trace_id  INTEGER NOT NULL REFERENCES traces(id),
  split     TEXT NOT NULL CHECK (split IN ('train','val')),
  PRIMARY KEY (mix_id, position)
) WITHOUT ROWID;
CREATE INDEX mix_items_trace ON mix_items(trace_id);

-- What a mix item looks like as a chat sample: the user turn is the problem
-- rendered through its teacher's template, the assistant turn is the trace.
-- A trace sampled with a prefilled '<think>\n' gets it back here, so every
-- consumer sees the complete assistant output.
CREATE VIEW v_mix_samples AS
SELECT m.name AS mix, mi.position, mi.split, mi.trace_id, t.problem_id,
       replace(tc.template_text, '{prompt}', p.prompt) AS user_text,
       CASE WHEN t.think_prefilled THEN '<think>' || char(10) || t.text ELSE t.text END AS assistant_text,
       p.family, p.lang, p.reasoning
FROM mix_items mi
JOIN mixes m ON m.id = mi.mix_id
JOIN traces t ON t.id = mi.trace_id
JOIN teachers tc ON tc.id = t.teacher_id
JOIN problems p ON p.id = t.problem_id;

-- Mixes are immutable: a rebuild deletes the old mix and writes a new one
-- (retort mix --replace), so an exported file always matches its mix.
CREATE TRIGGER mix_items_immutable BEFORE UPDATE ON mix_items
BEGIN SELECT RAISE(ABORT, 'mix items are immutable; rebuild the mix with --replace'); END;
CREATE TRIGGER mixes_immutable BEFORE UPDATE ON mixes
BEGIN SELECT RAISE(ABORT, 'mixes are immutable; rebuild the mix with --replace'); END;

-- What a mix can draw from: every trace a filter kept on a train-split problem,
-- with the problem's and teacher's facts, the filter's measures and the
-- problem's pass rate under that filter. One row per (filter, trace).
-- `retort mix --where PRED` selects from it: SELECT trace_id FROM v_candidates
-- WHERE filter_id = ? AND (PRED). v_problem_pass_rate comes from 002_filter.
CREATE VIEW v_candidates AS
SELECT v.filter_id, v.trace_id, t.problem_id, t.sample_index,
       p.family, p.task, p.lang, p.difficulty, p.reasoning, p.answer_type, p.source, p.knobs,
       p.prompt, p.answer AS truth,
       tc.name AS teacher, tc.key AS teacher_key, tc.template,
       t.finish_reason, t.think_prefilled, t.latency_ms,
       v.answer, v.answer_norm, v.correct, v.format_status, v.lang_ratio,
       v.dup_ngram_frac, v.top_ngram_frac, v.loop_period,
       v.n_chars, coalesce(v.n_tokens, t.n_tokens) AS n_tokens,
       pr.n_judged, pr.n_keep, pr.pass_rate, pr.correct_rate
FROM verdicts v
JOIN traces t ON t.id = v.trace_id
JOIN problems p ON p.id = t.problem_id
JOIN teachers tc ON tc.id = t.teacher_id
LEFT JOIN v_problem_pass_rate pr ON pr.filter_id = v.filter_id AND pr.problem_id = t.problem_id
WHERE v.keep = 1 AND p.split = 'train';
