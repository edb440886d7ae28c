-- 001_core: runs, problems, teachers, traces.
-- Migrations only move forward; a later change is a new file, never an edit here.

-- One row per invocation of a command that writes.
CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  command     TEXT NOT NULL,                 -- 'generate', 'filter', ...
  args        TEXT NOT NULL DEFAULT '{}',    -- JSON object of the parsed flags
  version     TEXT NOT NULL,
  started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  ended_at    TEXT,
  status      TEXT NOT NULL DEFAULT 'running'
              CHECK (status IN ('running','ok','failed','interrupted')),
  message     TEXT
);

-- A problem with exact ground truth. The content hash covers the canonical
-- problem (family, language, prompt, answer), so the same problem is stored once
-- whatever produced it.
CREATE TABLE problems (
  id           INTEGER PRIMARY KEY,
  hash         TEXT NOT NULL UNIQUE,         -- hex SHA-256/128 of the canonical problem
  family       TEXT NOT NULL,                -- 'arith', 'word', 'general', or an import's
  task         TEXT NOT NULL,                -- finer kind: 'expr', 'shopping', 'number_words', ...
  lang         TEXT NOT NULL,                -- 'en', 'zh', ...
  prompt       TEXT NOT NULL,                -- the problem statement, without any template
  answer       TEXT NOT NULL,                -- canonical ground truth ('-7/3', '42', 'forty-two')
  answer_type  TEXT NOT NULL DEFAULT 'number'
               CHECK (answer_type IN ('number','text')),
  knobs        TEXT NOT NULL DEFAULT '{}',   -- JSON: difficulty knobs and generator facts
  difficulty   INTEGER NOT NULL DEFAULT 0,   -- a coarse, family-defined level for breakdowns
  reasoning    INTEGER NOT NULL DEFAULT 1,   -- 1: reasoning sample, 0: non-reasoning share of the mix
  split        TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train','eval')),
  source       TEXT NOT NULL DEFAULT 'synthetic',
  run_id       INTEGER REFERENCES runs(id)
);
CREATE INDEX problems_family ON problems(family, split);

-- A teacher identity: who sampled, with which parameters and prompt template.
-- key is a hash of all of that, so traces from a changed teacher never mix
-- with the old ones, and resume is exact per (problem, teacher, sample).
CREATE TABLE teachers (
  id             INTEGER PRIMARY KEY,
  key            TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,              -- 'synthetic', 'model:DIR', 'http:URL', 'import:SOURCE'
  params         TEXT NOT NULL DEFAULT '{}', -- JSON: sampling parameters, fault rates, ...
  template       TEXT NOT NULL,              -- prompt template name: 'r1', 'tagged', ...
  template_text  TEXT NOT NULL,              -- the template, with {prompt} where the problem goes
  think_prefill  INTEGER NOT NULL DEFAULT 0  -- 1 when the template ends with '<think>\n'
);

-- One sampled output. Never an empty row posing as a result: a failed sample
-- has finish_reason 'error' and says why in error.
CREATE TABLE traces (
  id              INTEGER PRIMARY KEY,
  problem_id      INTEGER NOT NULL REFERENCES problems(id),
  teacher_id      INTEGER NOT NULL REFERENCES teachers(id),
  sample_index    INTEGER NOT NULL CHECK (sample_index >= 0),
  text            TEXT NOT NULL,
  finish_reason   TEXT NOT NULL CHECK (finish_reason IN ('stop','length','error')),
  think_prefilled INTEGER NOT NULL DEFAULT 0 CHECK (think_prefilled IN (0,1)),
  n_tokens        INTEGER,                   -- filled in by tokenization, when known
  latency_ms      REAL NOT NULL DEFAULT 0,
  error           TEXT,
  -- Faults the synthetic teacher planted, comma-separated; '' for a clean trace.
  -- Only the filter's report reads it: it is ground truth for measuring the filter.
  injected        TEXT NOT NULL DEFAULT '',
  run_id          INTEGER REFERENCES runs(id),
  UNIQUE (problem_id, teacher_id, sample_index)
);

-- Traces with their provenance spelled out, for curation and for reading.
CREATE VIEW v_traces AS
SELECT t.id AS trace_id, t.problem_id, tc.key AS teacher_key, tc.name AS teacher,
       tc.params AS teacher_params, tc.template, t.sample_index, t.text, t.finish_reason,
       t.think_prefilled, t.n_tokens, t.latency_ms, t.error, t.injected,
       p.family, p.task, p.lang, p.split, p.difficulty
FROM traces t JOIN teachers tc ON tc.id = t.teacher_id JOIN problems p ON p.id = t.problem_id;
