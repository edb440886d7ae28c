-- 002_filter: filter configurations and one verdict per (trace, filter).
-- Measured values are stored, not only booleans, so a new threshold can be a
-- SQL query over verdicts instead of a re-run.

CREATE TABLE filters (
  id          INTEGER PRIMARY KEY,
  hash        TEXT NOT NULL UNIQUE,          -- hex SHA-256/128 of the canonical config JSON
  config      TEXT NOT NULL,                 -- canonical JSON of every threshold and policy
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  run_id      INTEGER REFERENCES runs(id)
);

CREATE TABLE verdicts (
  filter_id      INTEGER NOT NULL REFERENCES filters(id),
  trace_id       INTEGER NOT NULL REFERENCES traces(id),
  pass           INTEGER NOT NULL CHECK (pass IN (0,1)),   -- every check passed
  keep           INTEGER NOT NULL CHECK (keep IN (0,1)),   -- pass, and chosen by the per-problem policy
  reasons        TEXT NOT NULL DEFAULT '',                 -- comma-separated reason codes; '' when pass
  answer         TEXT,                                     -- extracted answer, as written
  answer_norm    TEXT,                                     -- normalized (canonical rational or text)
  correct        INTEGER,                                  -- 1/0, NULL when no answer was found
  format_status  TEXT NOT NULL DEFAULT 'ok',               -- 'ok' or the first format problem found
  lang_ratio     REAL,                                     -- share of CoT words in the problem's language
  dup_ngram_frac REAL,                                     -- largest duplicate n-gram char fraction excess (see config)
  top_ngram_frac REAL,                                     -- largest top n-gram char ratio excess
  loop_period    INTEGER,                                  -- period in chars of a looping tail, 0 if none
  n_chars        INTEGER NOT NULL DEFAULT 0,
  n_tokens       INTEGER,
  measures       TEXT NOT NULL DEFAULT '{}',               -- JSON: every measured value per n
  text_hash      INTEGER,                                  -- 64-bit hash of the whitespace-normalized text (exact dedup)
  PRIMARY KEY (filter_id, trace_id)
) WITHOUT ROWID;
CREATE INDEX verdicts_trace ON verdicts(trace_id);

-- Reject counts per reason code (a trace with several reasons counts under each).
CREATE VIEW v_reject_reasons AS
WITH RECURSIVE split(filter_id, reason, rest) AS (
  SELECT filter_id, '', reasons || ',' FROM verdicts WHERE reasons <> ''
  UNION ALL
  SELECT filter_id, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
  FROM split WHERE rest <> '')
SELECT filter_id, reason, count(*) AS n FROM split WHERE reason <> '' GROUP BY filter_id, reason;

-- Per problem and filter: how many samples were judged, passed every check,
-- were verified correct, and were kept. For curation by difficulty, e.g.
-- WHERE n_judged >= 8 AND pass_rate > 0.2 AND pass_rate < 0.8.
CREATE VIEW v_problem_pass_rate AS
SELECT v.filter_id, t.problem_id, count(*) AS n_judged, sum(v.pass) AS n_pass,
       sum(coalesce(v.correct, 0)) AS n_correct, sum(v.keep) AS n_keep,
       avg(v.pass) AS pass_rate, avg(coalesce(v.correct, 0)) AS correct_rate
FROM verdicts v JOIN traces t ON t.id = v.trace_id
GROUP BY v.filter_id, t.problem_id;
