-- 006_eval: evaluation runs of a student on held-out problems.

-- One evaluation: which model, on which problems, with which decoding.
CREATE TABLE eval_runs (
  id            INTEGER PRIMARY KEY,
  model         TEXT NOT NULL,               -- the model directory as given
  model_hash    TEXT NOT NULL,               -- hex SHA-256/128 of config, weights and tokenizer
  template      TEXT NOT NULL,               -- chat template ('r1', 'chatml', 'llama3')
  user_template TEXT NOT NULL,               -- user turn, with {prompt} where the problem goes
  split         TEXT NOT NULL,
  family        TEXT,                        -- NULL: every family
  n_problems    INTEGER NOT NULL DEFAULT 0,
  samples       INTEGER NOT NULL DEFAULT 0,  -- sampled outputs per problem (besides the greedy one)
  k             INTEGER NOT NULL DEFAULT 0,  -- the k of pass@k and maj@k
  params        TEXT NOT NULL DEFAULT '{}',  -- JSON: temperature, top_p, top_k, max_new_tokens, seed
  metrics       TEXT NOT NULL DEFAULT '{}',  -- JSON: the overall figures (also derivable from the rows below)
  seconds       REAL,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  run_id        INTEGER REFERENCES runs(id)
);

-- One output: the greedy one (sample_index -1) or a sample (0..samples-1),
-- judged by the filter's verifier.
CREATE TABLE eval_items (
  eval_run_id   INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
  problem_id    INTEGER NOT NULL REFERENCES problems(id),
  sample_index  INTEGER NOT NULL,            -- -1: greedy
  text          TEXT NOT NULL,
  finish_reason TEXT NOT NULL CHECK (finish_reason IN ('stop','length')),
  n_tokens      INTEGER NOT NULL,
  answer_norm   TEXT,                        -- normalized extracted answer; NULL when none
  correct       INTEGER NOT NULL CHECK (correct IN (0,1)),
  well_formed   INTEGER NOT NULL CHECK (well_formed IN (0,1)),
  lang_ratio    REAL,                        -- share of CoT words in the problem's language; NULL: not measured
  lang_ok       INTEGER NOT NULL CHECK (lang_ok IN (0,1)),
  reasons       TEXT NOT NULL DEFAULT '',    -- the verifier's reason codes
  PRIMARY KEY (eval_run_id, problem_id, sample_index)
) WITHOUT ROWID;

-- Per problem: greedy correctness, pass@k (unbiased, from n samples of which
-- c are correct) and the majority answer over the samples.
CREATE TABLE eval_problems (
  eval_run_id   INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
  problem_id    INTEGER NOT NULL REFERENCES problems(id),
  family        TEXT NOT NULL,
  difficulty    INTEGER NOT NULL,
  greedy_correct INTEGER NOT NULL,
  n             INTEGER NOT NULL,            -- samples
  c             INTEGER NOT NULL,            -- correct samples
  pass_at_k     REAL,                        -- NULL without samples
  maj_answer    TEXT,
  maj_correct   INTEGER,                     -- NULL without samples
  PRIMARY KEY (eval_run_id, problem_id)
) WITHOUT ROWID;

-- The table `retort eval` prints, by family and difficulty.
CREATE VIEW v_eval_summary AS
SELECT ep.eval_run_id, ep.family, ep.difficulty, count(*) AS problems,
       avg(ep.greedy_correct) AS pass1, avg(ep.pass_at_k) AS pass_k, avg(ep.maj_correct) AS maj_k,
       (SELECT avg(ei.well_formed) FROM eval_items ei JOIN problems p ON p.id = ei.problem_id
         WHERE ei.eval_run_id = ep.eval_run_id AND p.family = ep.family AND p.difficulty = ep.difficulty) AS well_formed,
       (SELECT avg(ei.lang_ok) FROM eval_items ei JOIN problems p ON p.id = ei.problem_id
         WHERE ei.eval_run_id = ep.eval_run_id AND p.family = ep.family AND p.difficulty = ep.difficulty) AS lang_ok,
       (SELECT avg(ei.n_tokens) FROM eval_items ei JOIN problems p ON p.id = ei.problem_id
         WHERE ei.eval_run_id = ep.eval_run_id AND p.family = ep.family AND p.difficulty = ep.difficulty) AS mean_tokens
FROM eval_problems ep GROUP BY ep.eval_run_id, ep.family, ep.difficulty;
